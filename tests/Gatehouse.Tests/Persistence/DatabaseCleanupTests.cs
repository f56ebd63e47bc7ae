using System.Net;
using Gatehouse.Courier;
using Gatehouse.OAuth2.Flows;
using Gatehouse.OAuth2.Tokens;
using Gatehouse.Persistence;
using Gatehouse.Persistence.Cleanup;
using Gatehouse.RateLimiting;
using Gatehouse.SelfService.Errors;
using Gatehouse.SelfService.Flows;
using Gatehouse.Sessions;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Persistence;

public sealed class DatabaseCleanupTests
{
    public static TheoryData<string> Providers => Db.Providers;

    private sealed record Seeded(Guid IdentityId, List<Guid> MustGo, List<Guid> MustStay);

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Cleanup_deletes_expired_and_finished_rows_in_batches_and_keeps_everything_still_needed(string provider)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));
        await using var s = await TestServer.StartAsync(provider, configureServices: sv => sv.AddSingleton<TimeProvider>(clock));
        var seeded = await SeedAsync(s, clock.GetUtcNow().UtcDateTime);

        // Batch size 2 with 3+ rows per table proves the loop runs several bounded batches.
        var result = await s.Services.GetRequiredService<DatabaseCleanup>().RunAsync(TimeSpan.Zero, 2, TimeSpan.Zero, null, TestContext.Current.CancellationToken);

        var remaining = await AllIdsAsync(s);
        Assert.All(seeded.MustStay, id => Assert.Contains(id, remaining));
        Assert.All(seeded.MustGo, id => Assert.DoesNotContain(id, remaining));
        Assert.Equal(seeded.MustGo.Count - 2 /* the device and the dispatch go by cascade, uncounted */, result.Total);

        // The still-active session still answers whoami-style lookups through the admin API.
        (await s.AdminWithKey.GetAsync($"/admin/identities/{seeded.IdentityId}/sessions")).EnsureSuccessStatusCode();

        // A second run finds nothing.
        var again = await s.Services.GetRequiredService<DatabaseCleanup>().RunAsync(TimeSpan.Zero, 2, TimeSpan.Zero, null, TestContext.Current.CancellationToken);
        Assert.Equal(0, again.Total);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Keep_last_keeps_rows_that_expired_more_recently_than_the_window(string provider)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));
        await using var s = await TestServer.StartAsync(provider, configureServices: sv => sv.AddSingleton<TimeProvider>(clock));
        var now = clock.GetUtcNow().UtcDateTime;
        var recent = Flow(now.AddMinutes(-30));
        var old = Flow(now.AddHours(-3));
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
            db.Flows.AddRange(recent, old);
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        await s.Services.GetRequiredService<DatabaseCleanup>().RunAsync(TimeSpan.FromHours(1), 100, TimeSpan.Zero, null, TestContext.Current.CancellationToken);

        var remaining = await AllIdsAsync(s);
        Assert.Contains(recent.Id, remaining);
        Assert.DoesNotContain(old.Id, remaining);

        // Time passes (fake clock): the recent one is now past the window too.
        clock.Advance(TimeSpan.FromHours(1));
        await s.Services.GetRequiredService<DatabaseCleanup>().RunAsync(TimeSpan.FromHours(1), 100, TimeSpan.Zero, null, TestContext.Current.CancellationToken);
        Assert.DoesNotContain(recent.Id, await AllIdsAsync(s));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task The_janitor_in_serve_cleans_up_every_interval(string provider)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));
        await using var s = await TestServer.StartAsync(provider,
            o =>
            {
                o.Database.Cleanup.Janitor.Enabled = true;
                o.Database.Cleanup.Janitor.Interval = TimeSpan.FromMinutes(10);
                o.Database.Cleanup.Sleep.Tables = TimeSpan.Zero;
            },
            sv => sv.AddSingleton<TimeProvider>(clock));
        var now = clock.GetUtcNow().UtcDateTime;
        var expired = Flow(now.AddMinutes(-1));
        var live = Flow(now.AddMinutes(30));
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
            db.Flows.AddRange(expired, live);
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }
        Assert.Contains(expired.Id, await AllIdsAsync(s));

        clock.Advance(TimeSpan.FromMinutes(10));
        // The janitor runs on its own thread once the fake timer fires; wait for its effect, bounded.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await AllIdsAsync(s)).Contains(expired.Id) && DateTime.UtcNow < deadline) await Task.Delay(50, TestContext.Current.CancellationToken);

        var remaining = await AllIdsAsync(s);
        Assert.DoesNotContain(expired.Id, remaining);
        Assert.Contains(live.Id, remaining);
    }

    [Fact]
    public async Task Cleanup_sql_command_deletes_expired_rows_of_a_sqlite_database()
    {
        await using var s = await TestServer.StartAsync(Db.Sqlite);
        var now = DateTime.UtcNow;
        var expired = Flow(now.AddHours(-2));
        var live = Flow(now.AddHours(2));
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
            db.Flows.AddRange(expired, live);
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        var bad = await Gatehouse.Tests.Cli.CliProcess.RunAsync(["cleanup", "sql", "--keep-last", "soon", s.Options.Dsn]);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--keep-last", bad.Stderr);

        var run = await Gatehouse.Tests.Cli.CliProcess.RunAsync(["cleanup", "sql", "--keep-last", "1h", "--batch-size", "1", "--sleep", "0s", s.Options.Dsn]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("Deleted 1 expired self-service flows", run.Stdout);

        var remaining = await AllIdsAsync(s);
        Assert.DoesNotContain(expired.Id, remaining);
        Assert.Contains(live.Id, remaining);
    }

    /// <summary>
    /// OAuth2 login and consent requests past their expiry go unless their consent was given: that flow is the consent
    /// session (listed, revoked, remembered). As <c>hydra janitor --requests</c>.
    /// </summary>
    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Expired_oauth2_requests_go_and_consent_sessions_stay(string provider)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 8, 12, 0, 0, TimeSpan.Zero));
        await using var s = await TestServer.StartAsync(provider, configureServices: sv => sv.AddSingleton<TimeProvider>(clock));
        var now = clock.GetUtcNow().UtcDateTime;
        var (go, stay) = await SeedOAuth2RequestsAsync(s, now);

        var result = await s.Services.GetRequiredService<DatabaseCleanup>().RunAsync(TimeSpan.Zero, 2, TimeSpan.Zero, null, TestContext.Current.CancellationToken);

        var remaining = await OAuth2FlowIdsAsync(s);
        Assert.All(go, id => Assert.DoesNotContain(id, remaining));
        Assert.All(stay, id => Assert.Contains(id, remaining));
        Assert.Contains(("expired OAuth2 login and consent requests", (long)go.Count), result.Tables);
    }

    /// <summary>
    /// Hydra's <c>janitor</c>: its argument checks, one kind at a time (<c>--requests</c> leaves tokens alone), and
    /// <c>--limit</c> bounding the rows removed per kind.
    /// </summary>
    [Fact]
    public async Task Janitor_command_removes_what_its_flags_name_up_to_its_limit()
    {
        await using var s = await TestServer.StartAsync(Db.Sqlite);
        var now = DateTime.UtcNow;
        var (go, stay) = await SeedOAuth2RequestsAsync(s, now);
        var tokens = Enumerable.Range(0, 3).Select(i => new OAuth2Token
        {
            Pk = Guid.CreateVersion7(), Nid = Tenancy.DefaultNid, Signature = Guid.NewGuid().ToByteArray(), Kind = OAuth2TokenKinds.AccessToken, RequestId = Guid.NewGuid(),
            ClientId = "janitor-client", Subject = "janitor-client", IssuedAt = now.AddHours(-3), ExpiresAt = now.AddHours(-2), Active = true,
        }).ToList();
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
            db.OAuth2Tokens.AddRange(tokens);
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }
        async Task<int> TokensLeft()
        {
            await using var scope = s.Services.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<GatehouseDbContext>().OAuth2Tokens.CountAsync(t => t.ClientId == "janitor-client");
        }

        var none = await Gatehouse.Tests.Cli.CliProcess.RunAsync(["janitor", s.Options.Dsn]);
        Assert.Equal(1, none.ExitCode);
        Assert.Equal("error: janitor requires at least one of --tokens, --requests or --grants", none.Stderr.Trim());
        var noDsn = await Gatehouse.Tests.Cli.CliProcess.RunAsync(["janitor", "--tokens"]);
        Assert.Equal(1, noDsn.ExitCode);
        Assert.StartsWith("error: a DSN is required", noDsn.Stderr.Trim(), StringComparison.Ordinal);
        var bigBatch = await Gatehouse.Tests.Cli.CliProcess.RunAsync(["janitor", "--tokens", "--limit", "1", "--batch-size", "2", s.Options.Dsn]);
        Assert.Equal(1, bigBatch.ExitCode);
        Assert.Equal("error: --batch-size must not be greater than --limit", bigBatch.Stderr.Trim());
        Assert.Equal(3, await TokensLeft());

        var requests = await Gatehouse.Tests.Cli.CliProcess.RunAsync(["janitor", "--requests", s.Options.Dsn]);
        Assert.True(requests.ExitCode == 0, requests.Stderr);
        Assert.Contains($"Deleted {go.Count} expired OAuth2 login and consent requests\n", requests.Stdout, StringComparison.Ordinal);
        Assert.Contains("Successfully completed Janitor run on login-consent requests\n", requests.Stdout, StringComparison.Ordinal);
        var remaining = await OAuth2FlowIdsAsync(s);
        Assert.All(go, id => Assert.DoesNotContain(id, remaining));
        Assert.All(stay, id => Assert.Contains(id, remaining));
        Assert.Equal(3, await TokensLeft());

        // DSN from the environment (-e); at most --limit rows, in batches of --batch-size.
        var limited = await Gatehouse.Tests.Cli.CliProcess.RunAsync(["janitor", "--tokens", "-e", "--limit", "2", "--batch-size", "1", "--access-lifespan", "1h"],
            new Dictionary<string, string> { ["DSN"] = s.Options.Dsn });
        Assert.True(limited.ExitCode == 0, limited.Stderr);
        Assert.Contains("Deleted 2 expired OAuth2 tokens\n", limited.Stdout, StringComparison.Ordinal);
        Assert.Contains("Successfully completed Janitor run on tokens\n", limited.Stdout, StringComparison.Ordinal);
        Assert.Contains("note: --access-lifespan is not needed", limited.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, await TokensLeft());
    }

    private static async Task<(List<Guid> Go, List<Guid> Stay)> SeedOAuth2RequestsAsync(TestServer s, DateTime now)
    {
        OAuth2Flow Request(int state, DateTime expires) => new()
        {
            Pk = Guid.CreateVersion7(), Nid = Tenancy.DefaultNid, ClientId = "cleanup-client", Subject = state == OAuth2FlowState.LoginUnused ? "" : "someone",
            State = state, LoginChallenge = Guid.NewGuid().ToByteArray(), RequestedAt = expires.AddMinutes(-30), ExpiresAt = expires,
        };
        var expired = new[]
        {
            Request(OAuth2FlowState.LoginUnused, now.AddMinutes(-1)), Request(OAuth2FlowState.LoginError, now.AddHours(-2)),
            Request(OAuth2FlowState.LoginUsed, now.AddHours(-3)), Request(OAuth2FlowState.ConsentUnused, now.AddDays(-1)),
            Request(OAuth2FlowState.ConsentError, now.AddDays(-2)), Request(OAuth2FlowState.Done, now),
        };
        var consentSession = Request(OAuth2FlowState.ConsentUsed, now.AddDays(-30));
        var pending = Request(OAuth2FlowState.LoginUnused, now.AddMinutes(20));
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        db.OAuth2Flows.AddRange([.. expired, consentSession, pending]);
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        return ([.. expired.Select(f => f.Pk)], [consentSession.Pk, pending.Pk]);
    }

    private static async Task<HashSet<Guid>> OAuth2FlowIdsAsync(TestServer s)
    {
        await using var scope = s.Services.CreateAsyncScope();
        return [.. await scope.ServiceProvider.GetRequiredService<GatehouseDbContext>().OAuth2Flows.Select(f => f.Pk).ToListAsync()];
    }

    private static SelfServiceFlow Flow(DateTime expiresAt) => new()
    {
        Id = Guid.CreateVersion7(), Nid = Tenancy.DefaultNid, Kind = "login", RequestUrl = "http://127.0.0.1/self-service/login/browser",
        CsrfToken = "t", IssuedAt = expiresAt.AddHours(-1), ExpiresAt = expiresAt, CreatedAt = expiresAt.AddHours(-1), UpdatedAt = expiresAt.AddHours(-1),
    };

    private static async Task<Seeded> SeedAsync(TestServer s, DateTime now)
    {
        var created = await (await s.AdminWithKey.PostJson("/admin/identities",
            "{\"schema_id\":\"default\",\"traits\":{\"email\":\"" + HttpAssertions.UniqueEmail("cleanup") + "\"}}")).Json(HttpStatusCode.Created);
        var identityId = Guid.Parse((string)created["id"]!);
        var go = new List<Guid>();
        var stay = new List<Guid>();

        Session NewSession(DateTime expires, bool active)
        {
            var id = Guid.CreateVersion7();
            return new Session
            {
                Id = id, Nid = Tenancy.DefaultNid, IdentityId = identityId, TokenHash = id.ToByteArray(), LogoutTokenHash = Guid.NewGuid().ToByteArray(),
                Active = active, AuthenticatedAt = now.AddDays(-2), IssuedAt = now.AddDays(-2), ExpiresAt = expires, CreatedAt = now.AddDays(-2), UpdatedAt = now.AddDays(-2),
            };
        }
        SelfServiceCode Code(DateTime expires) => new()
        {
            Id = Guid.CreateVersion7(), Nid = Tenancy.DefaultNid, FlowId = Guid.NewGuid(), Kind = "recovery_code", Address = "a@example.com",
            SecretHash = Guid.NewGuid().ToByteArray(), ExpiresAt = expires, CreatedAt = expires.AddMinutes(-15),
        };
        SelfServiceError Error(DateTime created) => new() { Id = Guid.CreateVersion7(), Nid = Tenancy.DefaultNid, CreatedAt = created, UpdatedAt = created };
        CourierMessage Message(string status, DateTime updated) => new()
        {
            Id = Guid.CreateVersion7(), Nid = Tenancy.DefaultNid, Status = status, Recipient = "a@example.com", Subject = "s", Body = "b", TemplateType = "recovery_code_valid",
            NextAttemptAt = updated, CreatedAt = updated.AddMinutes(-1), UpdatedAt = updated,
        };

        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();

        var expiredSessions = new[] { NewSession(now.AddHours(-1), true), NewSession(now.AddDays(-1), false), NewSession(now, true) };
        var device = new SessionDevice { Id = Guid.CreateVersion7(), Nid = Tenancy.DefaultNid, SessionId = expiredSessions[0].Id, CreatedAt = now, UpdatedAt = now };
        expiredSessions[0].Devices.Add(device);
        var activeSession = NewSession(now.AddHours(1), true);
        var revokedUnexpired = NewSession(now.AddHours(1), false);
        var keptDevice = new SessionDevice { Id = Guid.CreateVersion7(), Nid = Tenancy.DefaultNid, SessionId = activeSession.Id, CreatedAt = now, UpdatedAt = now };
        activeSession.Devices.Add(keptDevice);
        db.Sessions.AddRange([.. expiredSessions, activeSession, revokedUnexpired]);
        go.AddRange(expiredSessions.Select(x => x.Id));
        go.Add(device.Id);
        stay.AddRange([activeSession.Id, revokedUnexpired.Id, keptDevice.Id]);

        var expiredFlows = new[] { Flow(now.AddMinutes(-1)), Flow(now.AddDays(-3)), Flow(now.AddSeconds(-1)) };
        var liveFlow = Flow(now.AddMinutes(10));
        db.Flows.AddRange([.. expiredFlows, liveFlow]);
        go.AddRange(expiredFlows.Select(x => x.Id));
        stay.Add(liveFlow.Id);

        var expiredCodes = new[] { Code(now.AddMinutes(-1)), Code(now.AddHours(-5)), Code(now.AddDays(-1)) };
        var liveCode = Code(now.AddMinutes(14));
        db.Codes.AddRange([.. expiredCodes, liveCode]);
        go.AddRange(expiredCodes.Select(x => x.Id));
        stay.Add(liveCode.Id);

        var oldErrors = new[] { Error(now.AddHours(-2)), Error(now.AddDays(-10)), Error(now.AddMinutes(-61)) };
        var freshError = Error(now.AddMinutes(-5)); // the error page may still be reading it
        db.SelfServiceErrors.AddRange([.. oldErrors, freshError]);
        go.AddRange(oldErrors.Select(x => x.Id));
        stay.Add(freshError.Id);

        var finished = new[] { Message(CourierMessageStatus.Sent, now.AddHours(-1)), Message(CourierMessageStatus.Abandoned, now.AddDays(-1)), Message(CourierMessageStatus.Sent, now.AddMinutes(-1)) };
        var dispatch = new CourierDispatch { Id = Guid.CreateVersion7(), Nid = Tenancy.DefaultNid, MessageId = finished[0].Id, Status = "success", CreatedAt = now, UpdatedAt = now };
        finished[0].Dispatches.Add(dispatch);
        var queued = Message(CourierMessageStatus.Queued, now.AddDays(-5));
        var processing = Message(CourierMessageStatus.Processing, now.AddDays(-5));
        db.CourierMessages.AddRange([.. finished, queued, processing]);
        go.AddRange(finished.Select(x => x.Id));
        go.Add(dispatch.Id);
        stay.AddRange([queued.Id, processing.Id]);

        // Rate-limit counters: windows that ended are dead, a running window (even a full one) must stay.
        RateLimitCounter Counter(DateTime expires, int count)
        {
            var id = Guid.CreateVersion7();
            return new RateLimitCounter { Nid = Tenancy.DefaultNid, Key = CounterKeyPrefix + id, Count = count, WindowStart = expires.AddMinutes(-15), LastAt = expires.AddMinutes(-1), ExpiresAt = expires };
        }
        var endedWindows = new[] { Counter(now.AddSeconds(-1), 3), Counter(now.AddHours(-2), 50), Counter(now, 1) };
        var runningWindow = Counter(now.AddMinutes(5), 50);
        db.RateLimitCounters.AddRange([.. endedWindows, runningWindow]);
        go.AddRange(endedWindows.Select(CounterId));
        stay.Add(CounterId(runningWindow));

        // OAuth2 tokens: expired ones of either kind go; live and revoked-but-unexpired ones stay.
        OAuth2Token Token(string kind, DateTime expires, bool active) => new()
        {
            Pk = Guid.CreateVersion7(), Nid = Tenancy.DefaultNid, Signature = Guid.NewGuid().ToByteArray(), Kind = kind, RequestId = Guid.NewGuid(),
            ClientId = "cleanup-client", Subject = "cleanup-client", IssuedAt = expires.AddHours(-1), ExpiresAt = expires, Active = active,
        };
        var expiredTokens = new[]
        {
            Token(OAuth2TokenKinds.AccessToken, now.AddMinutes(-1), true), Token(OAuth2TokenKinds.AccessToken, now.AddDays(-30), false),
            Token(OAuth2TokenKinds.RefreshToken, now.AddHours(-1), false),
        };
        var liveToken = Token(OAuth2TokenKinds.AccessToken, now.AddMinutes(30), true);
        var revokedUnexpiredToken = Token(OAuth2TokenKinds.AccessToken, now.AddMinutes(30), false);
        db.OAuth2Tokens.AddRange([.. expiredTokens, liveToken, revokedUnexpiredToken]);
        go.AddRange(expiredTokens.Select(x => x.Pk));
        stay.AddRange([liveToken.Pk, revokedUnexpiredToken.Pk]);

        // Verifiable-credential nonces: expired ones go (a proof with them is refused), a live one stays.
        Gatehouse.OAuth2.Credentials.VerifiableCredentialNonce Nonce(DateTime expires) => new()
        {
            Pk = Guid.CreateVersion7(), Nid = Tenancy.DefaultNid, Signature = Guid.NewGuid().ToByteArray(), AccessTokenSignature = liveToken.Signature, ExpiresAt = expires,
        };
        var expiredNonces = new[] { Nonce(now.AddSeconds(-1)), Nonce(now.AddHours(-2)), Nonce(now) };
        var liveNonce = Nonce(now.AddMinutes(30));
        db.OAuth2VerifiableCredentialNonces.AddRange([.. expiredNonces, liveNonce]);
        go.AddRange(expiredNonces.Select(x => x.Pk));
        stay.Add(liveNonce.Pk);

        await db.SaveChangesAsync();
        return new Seeded(identityId, go, stay);
    }

    private static async Task<HashSet<Guid>> AllIdsAsync(TestServer s)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var ids = new HashSet<Guid>();
        ids.UnionWith(await db.Sessions.Select(x => x.Id).ToListAsync());
        ids.UnionWith(await db.SessionDevices.Select(x => x.Id).ToListAsync());
        ids.UnionWith(await db.Flows.Select(x => x.Id).ToListAsync());
        ids.UnionWith(await db.Codes.Select(x => x.Id).ToListAsync());
        ids.UnionWith(await db.SelfServiceErrors.Select(x => x.Id).ToListAsync());
        ids.UnionWith(await db.CourierMessages.Select(x => x.Id).ToListAsync());
        ids.UnionWith(await db.CourierDispatches.Select(x => x.Id).ToListAsync());
        ids.UnionWith((await db.RateLimitCounters.Where(x => x.Key.StartsWith(CounterKeyPrefix)).ToListAsync()).Select(CounterId));
        ids.UnionWith(await db.OAuth2Tokens.Select(x => x.Pk).ToListAsync());
        ids.UnionWith(await db.OAuth2VerifiableCredentialNonces.Select(x => x.Pk).ToListAsync());
        return ids;
    }

    // Counters are keyed by a string; the seeded ones carry a Guid so they fit the id sets above.
    private const string CounterKeyPrefix = "cleanup-test:";

    private static Guid CounterId(RateLimitCounter c) => Guid.Parse(c.Key[CounterKeyPrefix.Length..]);
}
