using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Config;
using Gatehouse.Identities;
using Gatehouse.Persistence;
using Gatehouse.Sessions;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using static Gatehouse.Tests.Sessions.SessionFixtures;

namespace Gatehouse.Tests.Sessions;

public sealed class SessionManagerTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Issued_session_is_active_aal1_with_kratos_token_formats_and_one_device(string db)
    {
        var s = await fixture.Get(db);
        var (identity, issued) = await IdentityWithSession(s, h =>
        {
            h["X-Forwarded-For"] = "203.0.113.7, 10.0.0.1";
            h["Cf-Ipcity"] = "Berlin";
            h["Cf-Ipcountry"] = "DE";
        });
        Assert.Matches("^ory_st_[A-Za-z0-9]{32}$", issued.Token);
        Assert.Matches("^ory_lo_[A-Za-z0-9]{32}$", issued.LogoutToken);
        var session = issued.Session;
        Assert.Equal(Id(identity), session.IdentityId);
        Assert.Equal(Id(identity), session.Identity!.Id);
        Assert.True(session.Active);
        Assert.Equal("aal1", session.Aal);
        Assert.Equal(s.Options.Session.Lifespan, session.ExpiresAt - session.AuthenticatedAt);
        Assert.Equal(session.AuthenticatedAt, session.IssuedAt);
        var device = Assert.Single(session.Devices);
        Assert.Equal("203.0.113.7", device.IpAddress);
        Assert.Equal("GatehouseTests/1.0", device.UserAgent);
        Assert.Equal("Berlin, DE", device.Location);
        var stored = await Load(s, session.Id);
        Assert.Equal(device.Id, Assert.Single(stored!.Devices).Id);
        Assert.Contains("\"method\":\"password\"", stored.AuthenticationMethods, StringComparison.Ordinal);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Tokens_are_stored_only_as_sha256_hashes(string db)
    {
        var s = await fixture.Get(db);
        var (_, issued) = await IdentityWithSession(s);
        var stored = await Load(s, issued.Session.Id);
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(issued.Token)), stored!.TokenHash);
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(issued.LogoutToken)), stored.LogoutTokenHash);
        await using var scope = s.Services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var connection = context.Database.GetDbConnection();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT * FROM sessions";
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            for (var i = 0; i < reader.FieldCount; i++)
            {
                var text = reader.IsDBNull(i) ? "" : reader.GetValue(i) is byte[] bytes ? Encoding.UTF8.GetString(bytes) : reader.GetValue(i).ToString()!;
                Assert.DoesNotContain(issued.Token, text, StringComparison.Ordinal);
                Assert.DoesNotContain(issued.LogoutToken, text, StringComparison.Ordinal);
            }
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Request_session_is_found_by_header_cookie_or_bearer_in_that_order(string db)
    {
        var s = await fixture.Get(db);
        var (_, first) = await IdentityWithSession(s);
        var (_, second) = await IdentityWithSession(s);
        var cookie = CookieHeader(s, second);
        Assert.Equal(first.Session.Id, (await FromRequest(s, h => h["X-Session-Token"] = first.Token))!.Id);
        Assert.Equal(second.Session.Id, (await FromRequest(s, h => h.Cookie = cookie))!.Id);
        Assert.Equal(first.Session.Id, (await FromRequest(s, h => h.Authorization = "Bearer " + first.Token))!.Id);
        Assert.Equal(first.Session.Id, (await FromRequest(s, h => { h.Cookie = cookie; h["X-Session-Token"] = first.Token; }))!.Id);
        Assert.Equal(second.Session.Id, (await FromRequest(s, h => { h.Cookie = cookie; h.Authorization = "Bearer " + first.Token; }))!.Id);
        // A cookie that is not genuine falls through to the bearer token, as Kratos's extractToken does.
        Assert.Equal(first.Session.Id, (await FromRequest(s, h => { h.Cookie = "ory_kratos_session=garbage"; h.Authorization = "Bearer " + first.Token; }))!.Id);
        var found = await FromRequest(s, h => h["X-Session-Token"] = first.Token);
        Assert.NotNull(found!.Identity);
        Assert.NotEmpty(found.Identity!.VerifiableAddresses);
        Assert.NotEmpty(found.Identity.RecoveryAddresses);
        Assert.Single(found.Devices);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Garbage_and_tampered_credentials_give_null_not_exceptions(string db)
    {
        var s = await fixture.Get(db);
        var (_, issued) = await IdentityWithSession(s);
        var cookie = CookieHeader(s, issued);
        var value = cookie[(cookie.IndexOf('=', StringComparison.Ordinal) + 1)..];
        var tampered = value[..10] + (value[10] == 'A' ? 'B' : 'A') + value[11..];
        foreach (var headers in new Action<Microsoft.AspNetCore.Http.IHeaderDictionary>[]
        {
            _ => { },
            h => h["X-Session-Token"] = "ory_st_doesnotexist",
            h => h["X-Session-Token"] = new string('x', 10_000),
            h => h.Authorization = "Bearer",
            h => h.Authorization = "Basic " + issued.Token,
            h => h.Cookie = "ory_kratos_session=" + tampered,
            h => h.Cookie = "ory_kratos_session=%%%not-base64",
            h => h.Cookie = "ory_kratos_session=" + value[..20],
            h => h["X-Session-Token"] = issued.LogoutToken,
        })
        {
            Assert.Null(await FromRequest(s, headers));
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Expired_revoked_or_inactive_identity_sessions_are_not_returned(string db)
    {
        var s = await fixture.Get(db);
        var (_, expired) = await IdentityWithSession(s);
        await Update(s, expired.Session.Id, x => x.ExpiresAt = DateTime.UtcNow.AddSeconds(-1));
        Assert.Null(await FromRequest(s, h => h["X-Session-Token"] = expired.Token));

        var (_, revoked) = await IdentityWithSession(s);
        await using (var scope = s.Services.CreateAsyncScope())
        {
            Assert.True(await scope.ServiceProvider.GetRequiredService<SessionManager>().RevokeAsync(revoked.Session.Id, CancellationToken.None));
        }
        Assert.Null(await FromRequest(s, h => h["X-Session-Token"] = revoked.Token));

        var (identity, inactive) = await IdentityWithSession(s);
        Assert.NotNull(await FromRequest(s, h => h["X-Session-Token"] = inactive.Token));
        var put = await s.AdminWithKey.PutJson($"/admin/identities/{Id(identity)}", $$"""{"schema_id":"default","state":"inactive","traits":{{identity["traits"]!.ToJsonString()}}}""");
        Assert.Equal(System.Net.HttpStatusCode.OK, put.StatusCode);
        Assert.Null(await FromRequest(s, h => h["X-Session-Token"] = inactive.Token));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Refresh_moves_authenticated_at_and_expiry_and_appends_the_method(string db)
    {
        var s = await fixture.Get(db);
        var (_, issued) = await IdentityWithSession(s);
        await Update(s, issued.Session.Id, x => x.ExpiresAt = DateTime.UtcNow.AddMinutes(5));
        var before = await Load(s, issued.Session.Id);
        await using (var scope = s.Services.CreateAsyncScope())
        {
            var refreshed = await scope.ServiceProvider.GetRequiredService<SessionManager>()
                .RefreshAsync(before!, new AuthenticationMethod("totp", "aal2", DateTime.UtcNow), CancellationToken.None);
            Assert.Equal("aal2", refreshed.Aal);
        }
        var after = await Load(s, issued.Session.Id);
        Assert.True(after!.AuthenticatedAt > issued.Session.AuthenticatedAt);
        Assert.Equal(s.Options.Session.Lifespan, after.ExpiresAt - after.AuthenticatedAt);
        Assert.Equal("aal2", after.Aal);
        var methods = SessionJson.ParseMethods(after.AuthenticationMethods);
        Assert.Equal(["password", "totp"], methods.Select(m => m!["method"]!.GetValue<string>()));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Issuing_for_an_inactive_identity_is_refused(string db)
    {
        var s = await fixture.Get(db);
        var identity = await CreateIdentity(s, extra: ""","state":"inactive" """);
        var error = await Assert.ThrowsAsync<Gatehouse.Http.Errors.GatehouseError>(() => Issue(s, Id(identity)));
        Assert.Equal("identity_disabled", error.ErrorId);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Cookie_written_with_a_rotated_out_secret_still_decrypts(string db)
    {
        await using var s = await TestServer.StartAsync(db, o => o.Secrets.Cookie = ["the-new-cookie-secret-0123456789", "the-old-cookie-secret-0123456789"]);
        var (_, issued) = await IdentityWithSession(s);
        var old = new GatehouseOptions();
        old.Secrets.Cookie = ["the-old-cookie-secret-0123456789"];
        var oldCookie = new SessionCookie(old, TimeProvider.System).Protect(issued.Token, issued.Session.ExpiresAt);
        Assert.Equal(issued.Session.Id, (await FromRequest(s, h => h.Cookie = "ory_kratos_session=" + oldCookie))!.Id);
        var unknown = new GatehouseOptions();
        unknown.Secrets.Cookie = ["some-other-secret-0123456789abcd"];
        var foreign = new SessionCookie(unknown, TimeProvider.System).Protect(issued.Token, issued.Session.ExpiresAt);
        Assert.Null(await FromRequest(s, h => h.Cookie = "ory_kratos_session=" + foreign));
        // New cookies are written with the first secret.
        var fresh = SetCookieValue(CookieHeader(s, issued));
        var current = new GatehouseOptions();
        current.Secrets.Cookie = ["the-new-cookie-secret-0123456789"];
        Assert.True(new SessionCookie(current, TimeProvider.System).TryUnprotect(fresh["ory_kratos_session=".Length..], out var token, out _));
        Assert.Equal(issued.Token, token);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Looking_up_the_request_session_runs_exactly_one_database_command(string db)
    {
        var s = await fixture.Get(db);
        var (_, issued) = await IdentityWithSession(s);
        await using var scope = s.Services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var manager = scope.ServiceProvider.GetRequiredService<SessionManager>();
        var commands = new CommandCounter(context);
        using (DiagnosticListener.AllListeners.Subscribe(commands))
        {
            // EF re-checks whether anyone listens to command events at most once a second.
            await Task.Delay(TimeSpan.FromSeconds(1.2));
            var http = RequestContext(scope.ServiceProvider, h => h["X-Session-Token"] = issued.Token);
            var session = await manager.FromRequestAsync(http, CancellationToken.None);
            Assert.NotNull(session);
            Assert.NotEmpty(session!.Identity!.VerifiableAddresses);
            Assert.NotEmpty(session.Identity.RecoveryAddresses);
            Assert.Single(session.Devices);
            // A second lookup on the same request is answered from the request.
            Assert.Same(session, await manager.FromRequestAsync(http, CancellationToken.None));
        }
        Assert.Equal(1, commands.Count);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Issuing_saves_an_identity_added_in_the_same_unit_of_work(string db)
    {
        var s = await fixture.Get(db);
        await using var scope = s.Services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var now = DateTime.UtcNow;
        var identity = new Identity
        {
            Id = Guid.CreateVersion7(),
            Nid = context.Nid,
            Traits = $$"""{"email":"{{HttpAssertions.UniqueEmail("uow")}}"}""",
            CreatedAt = now,
            UpdatedAt = now,
        };
        context.Identities.Add(identity);
        var issued = await scope.ServiceProvider.GetRequiredService<SessionManager>()
            .IssueAsync(identity, new AuthenticationMethod("password", "aal1", now), RequestContext(scope.ServiceProvider), CancellationToken.None);
        Assert.Same(identity, issued.Session.Identity);
        // Nothing is left pending that a later SaveChanges of the caller would trip over.
        Assert.Equal(0, await context.SaveChangesAsync());
        Assert.NotNull(await FromRequest(s, h => h["X-Session-Token"] = issued.Token));
    }

    /// <summary>Counts the SQL commands EF runs for one context instance (other tests run in parallel).</summary>
    private sealed class CommandCounter(GatehouseDbContext context) : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>
    {
        private readonly List<IDisposable> _subscriptions = [];
        private int _count;

        public int Count => _count;

        public void OnNext(DiagnosticListener value)
        {
            if (value.Name == DbLoggerCategory.Name) lock (_subscriptions) _subscriptions.Add(value.Subscribe(this));
        }

        public void OnNext(KeyValuePair<string, object?> value)
        {
            if (value.Key == RelationalEventId.CommandExecuted.Name && value.Value is CommandExecutedEventData data && ReferenceEquals(data.Context, context))
                Interlocked.Increment(ref _count);
        }

        public void OnCompleted() { }

        public void OnError(Exception error) { }
    }
}
