using System.Net;
using Gatehouse.Config;
using Gatehouse.Tests.Hooks;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.Config;

/// <summary>
/// Kratos's logging keys that act only on values and requests Gatehouse never logs: <c>log.redaction_text</c> (ory/x
/// logrusx <c>UseConfig</c>: the placeholder of <c>WithSensitiveField</c> and the request log's query and headers) and
/// <c>serve.*.request_log.disable_for_health</c> (Kratos cmd/daemon/serve.go: reqlog <c>ExcludePaths</c> of the health
/// checks). They load without a warning, and a server writes no request log line, health requests included.
/// </summary>
public sealed class LogKeysTests : IDisposable
{
    private readonly ConfigFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Kratos_log_and_request_log_keys_load_without_warnings()
    {
        var result = ConfigLoader.Load([_files.Write("kratos.yml", """
            dsn: memory
            log:
              level: debug
              leak_sensitive_values: false
              redaction_text: "[hidden]"
            serve:
              public:
                request_log:
                  disable_for_health: true
              admin:
                request_log:
                  disable_for_health: false
            """)], new Dictionary<string, string?>(), dev: false);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("log", StringComparison.Ordinal));
        Assert.Equal("[hidden]", result.Options.Log.RedactionText);
        Assert.True(result.Options.Serve.Public.RequestLog.DisableForHealth);
        Assert.False(result.Options.Serve.Admin.RequestLog.DisableForHealth);

        var fromEnvironment = ConfigLoader.Load([_files.Write("env.yml", "dsn: memory\n")], new Dictionary<string, string?>
        {
            ["SERVE_ADMIN_REQUEST_LOG_DISABLE_FOR_HEALTH"] = "true",
            ["LOG_REDACTION_TEXT"] = "[hidden]",
        }, dev: false);
        Assert.True(fromEnvironment.Options.Serve.Admin.RequestLog.DisableForHealth);
        Assert.Equal("[hidden]", fromEnvironment.Options.Log.RedactionText);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task No_request_is_logged_health_checks_included_whatever_disable_for_health_says(bool disableForHealth)
    {
        var logs = new LogCapture();
        await using var s = await TestServer.StartAsync(Db.Sqlite, o =>
        {
            o.Log.Level = "trace";
            o.Serve.Public.RequestLog.DisableForHealth = disableForHealth;
            o.Serve.Admin.RequestLog.DisableForHealth = disableForHealth;
        }, services => services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));
        var before = logs.Lines.Count;

        foreach (var client in new[] { s.Public, s.AdminWithKey })
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/alive?probe=secret-query")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready?probe=secret-query")).StatusCode);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await s.Public.GetAsync("/sessions/whoami?probe=secret-query")).StatusCode);

        var requestLines = logs.Lines.Skip(before).Where(l => l.Contains("/health/", StringComparison.Ordinal) || l.Contains("/sessions/whoami", StringComparison.Ordinal)
            || l.Contains("secret-query", StringComparison.Ordinal)).ToList();
        Assert.Empty(requestLines);
        // The capture is wired to the server's logging: a line logged through it arrives.
        Microsoft.Extensions.Logging.LoggerExtensions.LogInformation(s.Services.GetRequiredService<Microsoft.Extensions.Logging.ILogger<LogKeysTests>>(), "capture probe");
        Assert.Contains(logs.Lines, l => l.Contains("capture probe", StringComparison.Ordinal));
    }
}
