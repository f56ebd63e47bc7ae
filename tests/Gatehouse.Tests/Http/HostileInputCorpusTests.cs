using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using static Gatehouse.Tests.Sessions.SessionFixtures;

namespace Gatehouse.Tests.Http;

/// <summary>
/// Every public and admin route (read from the app's endpoint data source, so new routes are covered without
/// touching this test) against every hostile request class of <see cref="HostileCorpus"/>: no 5xx, no request over
/// the time bound, every error in the Kratos envelope, no table changed by a rejected request, no exception logged at
/// Information or above, and a healthy server afterwards.
/// </summary>
public sealed class HostileInputCorpusTests
{
    private static readonly TimeSpan PerRequest = TimeSpan.FromSeconds(10);

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Hostile_requests_on_every_route_get_a_4xx_envelope_change_nothing_and_log_no_exception(string db)
    {
        var logs = new ExceptionLog();
        await using var s = await TestServer.StartAsync(db, o =>
        {
            o.Log.Level = "info";
            o.Selfservice.Flows.Recovery.Enabled = true;
            o.Selfservice.Flows.Verification.Enabled = true;
        }, services => services.AddSingleton<ILoggerProvider>(logs));
        var ids = await SeedAsync(s);
        var routes = Routes(s.Services).ToList();
        Assert.Contains(routes, r => r.Admin && r.Pattern == "/admin/identities");
        Assert.Contains(routes, r => !r.Admin && r.Pattern == "/self-service/login");
        var corpus = HostileCorpus.Build(routes, ids);
        Assert.True(corpus.Count >= 500, $"the corpus has only {corpus.Count} requests");

        using var handler = new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false };
        using var client = new HttpClient(handler) { Timeout = PerRequest };
        var failures = new List<string>();
        var before = await SnapshotAsync(s);
        var slowest = new List<(TimeSpan Took, string Case)>();
        foreach (var c in corpus)
        {
            var clock = Stopwatch.StartNew();
            var failure = await RunAsync(s, client, c);
            slowest.Add((clock.Elapsed, c.ToString()));
            var after = await SnapshotAsync(s);
            if (failure.Status >= 400 || failure.Status == 0)
            {
                var changed = before.Where(t => after[t.Key] != t.Value).Select(t => $"{t.Key} ({Difference(t.Value, after[t.Key])})").ToList();
                if (changed.Count > 0) failure = failure with { Problem = failure.Problem ?? $"changed {string.Join(", ", changed)}" };
            }
            if (failure.Problem is not null) failures.Add($"{c} -> {failure.Status}: {failure.Problem}");
            before = after;
        }
        foreach (var line in logs.Entries) failures.Add("logged: " + line);
        TestContext.Current.TestOutputHelper?.WriteLine($"{corpus.Count} requests; slowest: " + string.Join("; ", slowest.OrderByDescending(x => x.Took).Take(5).Select(x => $"{x.Took.TotalMilliseconds:0} ms {x.Case[..Math.Min(x.Case.Length, 120)]}")));
        Assert.True(failures.Count == 0, $"{failures.Count} of {corpus.Count} hostile requests misbehaved:\n" + string.Join("\n", failures.Take(400)));

        // The server is healthy and still serves: a new identity gets a session that whoami accepts. (The seeded
        // session may be gone: hostile query strings on admin DELETE routes are ignored, so those deletes succeed.)
        Assert.Equal(HttpStatusCode.OK, (await s.Public.GetAsync("/health/alive")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await s.Admin.GetAsync("/admin/health/ready")).StatusCode);
        var (_, fresh) = await IdentityWithSession(s);
        using var whoami = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
        whoami.Headers.Add("X-Session-Token", fresh.Token);
        Assert.Equal(HttpStatusCode.OK, (await s.Public.SendAsync(whoami)).StatusCode);
    }

    private sealed record Outcome(int Status, string? Problem);

    private static async Task<Outcome> RunAsync(TestServer s, HttpClient client, HostileCase c)
    {
        using var request = new HttpRequestMessage(new HttpMethod(c.Method), (c.Admin ? s.AdminUrl : s.PublicUrl) + c.Url);
        // As an SPA: errors come back as the envelope instead of being forwarded to the error UI (which stores them).
        request.Headers.TryAddWithoutValidation("Accept", "application/json");
        if (c.Admin) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", s.ApiKey);
        foreach (var (name, value) in c.Headers)
        {
            request.Headers.Remove(name);
            request.Headers.TryAddWithoutValidation(name, value);
        }
        if (c.Body is not null)
        {
            request.Content = new ByteArrayContent(c.Body);
            // Lets the server refuse a large body before it is sent (else the refused upload breaks the connection).
            if (c.Body.Length > HostileCorpus.ExpectContinueFrom) request.Headers.ExpectContinue = true;
            if (c.ContentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", c.ContentType);
        }
        var clock = Stopwatch.StartNew();
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request);
        }
        catch (TaskCanceledException)
        {
            return new Outcome(0, $"no answer within {PerRequest.TotalSeconds:0}s");
        }
        catch (HttpRequestException ex)
        {
            return new Outcome(0, "connection failed: " + ex.Message);
        }
        using (response)
        {
            var status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync();
            // Hydra's fallback error page (urls.error unset) is a 500 HTML page by design (DefaultErrorHandler); what it
            // shows of hostile input is checked by ErrorFallbackTests.
            if (status == 500 && c.Url.StartsWith(Gatehouse.OAuth2.Flows.ErrorFallback.Path, StringComparison.Ordinal)
                && response.Content.Headers.ContentType?.MediaType == "text/html" && !text.Contains("<script", StringComparison.OrdinalIgnoreCase))
                return new Outcome(status, null);
            if (status >= 500) return new Outcome(status, Shorten(text));
            if (c.Expect is { } expected && status != expected) return new Outcome(status, $"expected {expected}: {Shorten(text)}");
            if (status < 400) return new Outcome(status, null);
            // HEAD answers carry no body; the built-in UI's pages answer browsers in HTML.
            if (c.Method == "HEAD" || c.Url.StartsWith("/ui/", StringComparison.Ordinal)) return new Outcome(status, null);
            try
            {
                var body = JsonNode.Parse(text);
                // A submitted API flow answers 400 with the flow and its messages, as Kratos does.
                if (status == 400 && body is JsonObject flow && flow["ui"] is JsonObject && flow["id"] is not null) return new Outcome(status, null);
                // Hydra's routes (issue 14) answer RFC 6749 error JSON instead of Kratos's envelope.
                if (IsHydraRoute(c.Url) && body is JsonObject oauth2 && oauth2["error"] is JsonValue && oauth2["error_description"] is JsonValue)
                    return new Outcome(status, null);
                var error = body?["error"] as JsonObject;
                if (error?["code"] is not JsonValue code || code.GetValue<int>() < 400 || error["message"] is null || error["status"] is null)
                    return new Outcome(status, "not a Kratos error envelope: " + Shorten(text));
            }
            catch (JsonException)
            {
                return new Outcome(status, "not JSON: " + Shorten(text));
            }
            return new Outcome(status, clock.Elapsed > PerRequest ? "too slow" : null);
        }
    }

    private static string Difference(string before, string after)
    {
        var at = 0;
        while (at < before.Length && at < after.Length && before[at] == after[at]) at++;
        var from = Math.Max(0, at - 40);
        return $"was …{before[from..Math.Min(before.Length, at + 40)]}…, now …{after[from..Math.Min(after.Length, at + 40)]}…";
    }

    private static string Shorten(string text) => text.Length > 160 ? text[..160] + "…" : text;

    /// <summary>Every route the app maps, as method + pattern, with the listener it belongs to.</summary>
    internal static IEnumerable<HostileRoute> Routes(IServiceProvider services)
    {
        var source = services.GetRequiredService<EndpointDataSource>();
        foreach (var endpoint in source.Endpoints.OfType<RouteEndpoint>())
        {
            var pattern = "/" + (endpoint.RoutePattern.RawText ?? "").TrimStart('/');
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            // CONNECT is a proxy tunnel request that no HTTP client sends to a path.
            foreach (var method in methods.Distinct().Where(m => m != "CONNECT"))
            {
                yield return new HostileRoute(method, pattern, pattern.StartsWith("/admin/", StringComparison.Ordinal) || pattern == "/admin");
            }
        }
    }

    internal sealed record SeededIds(string IdentityId, string SessionId, IReadOnlyDictionary<string, string> FlowIds)
    {
        public static implicit operator HostileCorpus.Ids(SeededIds ids) => new(ids.IdentityId, ids.SessionId, ids.FlowIds);
    }

    /// <summary>An identity with a password, tags and metadata to patch; a session; one open API flow of each kind.</summary>
    private static async Task<SeededIds> SeedAsync(TestServer s)
    {
        var (identity, issued) = await IdentityWithSession(s);
        var identityId = identity["id"]!.GetValue<string>();
        var flows = new Dictionary<string, string>();
        foreach (var kind in new[] { "login", "registration", "recovery", "verification", "settings" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/self-service/{kind}/api");
            if (kind == "settings") request.Headers.Add("X-Session-Token", issued.Token);
            var flow = await (await s.Public.SendAsync(request)).Json(HttpStatusCode.OK);
            flows[kind] = flow["id"]!.GetValue<string>();
        }
        return new SeededIds(identityId, issued.Session.Id.ToString(), flows);
    }

    /// <summary>Every table's rows (all columns, sorted), keyed by table.</summary>
    private static async Task<Dictionary<string, string>> SnapshotAsync(TestServer s)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        var connection = context.Database.GetDbConnection();
        await context.Database.OpenConnectionAsync();
        var result = new Dictionary<string, string>();
        foreach (var table in context.Model.GetEntityTypes().Select(t => t.GetTableName()).OfType<string>().Distinct().Order(StringComparer.Ordinal))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT * FROM \"{table}\"";
            await using var reader = await command.ExecuteReaderAsync();
            var rows = new List<string>();
            while (await reader.ReadAsync()) rows.Add(Row(table, reader));
            rows.Sort(StringComparer.Ordinal);
            result[table] = string.Join("\n", rows);
        }
        return result;
    }

    /// <summary>
    /// A row as text. A submitted flow that fails is saved again with its messages, as in Kratos (the flow's error
    /// handlers call <c>Update*Flow</c>): its <c>ui</c>, <c>active</c> method and <c>updated_at</c> are the answer, not a change of state.
    /// </summary>
    private static string Row(string table, DbDataReader reader)
    {
        var values = new List<string>();
        for (var i = 0; i < reader.FieldCount; i++)
        {
            if (table == "selfservice_flows" && reader.GetName(i).Replace("_", "", StringComparison.Ordinal).ToLowerInvariant() is "ui" or "updatedat" or "active") continue;
            values.Add(reader.IsDBNull(i) ? "∅" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture) ?? "");
        }
        return string.Join("|", values);
    }

    /// <summary>Keeps every log entry at Information or above that carries an exception (a stack trace in the log).</summary>
    private static bool IsHydraRoute(string url) =>
        url.StartsWith("/oauth2/", StringComparison.Ordinal) || url.StartsWith("/admin/oauth2/", StringComparison.Ordinal)
        || url.StartsWith("/admin/clients", StringComparison.Ordinal) || url.StartsWith("/admin/keys", StringComparison.Ordinal)
        || url.StartsWith("/admin/trust/", StringComparison.Ordinal)
        || url.StartsWith("/userinfo", StringComparison.Ordinal) || url.StartsWith("/credentials", StringComparison.Ordinal)
        || url.StartsWith("/.well-known/", StringComparison.Ordinal);

    private sealed class ExceptionLog : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _entries = new();

        public IReadOnlyList<string> Entries => [.. _entries];

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<string> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (logLevel >= LogLevel.Information && exception is not null)
                    entries.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception.GetType().Name}: {exception.Message}");
            }
        }
    }
}
