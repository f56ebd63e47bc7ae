using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gatehouse.OAuth2.Keys;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Cli;

/// <summary>
/// <c>gatehouse oauth2 perform authorization-code</c> and <c>perform device-code</c> (Hydra's example clients) as real
/// child processes against a running server: a cookie-keeping HTTP client plays the browser, following every redirect
/// between the provider and the example's own pages, and submitting its forms.
/// </summary>
public sealed partial class OAuth2PerformCliTests
{
    /// <summary>A running CLI process whose output is read as it comes.</summary>
    private sealed class LiveCli : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _stdout = new();
        private readonly StringBuilder _stderr = new();

        /// <summary>Released for every line on standard error and when the process ends: what a waiter re-checks on.</summary>
        private readonly SemaphoreSlim _changed = new(0);

        public LiveCli(params string[] args)
        {
            // As from a terminal, where Ctrl+C reaches the process: a test runner started in the background by a
            // non-interactive shell has SIGINT ignored, children inherit that, and .NET then never sees the signal. GNU
            // env's --default-signal restores its default before exec-ing dotnet (the same process, so Pid stays right).
            var start = CliProcess.StartInfo(args);
            start.ArgumentList.Insert(0, start.FileName);
            start.ArgumentList.Insert(0, "--default-signal=INT");
            start.FileName = "env";
            _process = new Process { StartInfo = start, EnableRaisingEvents = true };
            _process.OutputDataReceived += (_, e) => { lock (_stdout) if (e.Data is not null) _stdout.AppendLine(e.Data); };
            _process.ErrorDataReceived += (_, e) =>
            {
                lock (_stderr) if (e.Data is not null) _stderr.AppendLine(e.Data);
                _changed.Release();
            };
            _process.Exited += (_, _) => _changed.Release();
            _process.Start();
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public int Pid => _process.Id;

        public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }

        public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

        /// <summary>Waits (up to a minute) until standard error matches, or fails with what the process said.</summary>
        public async Task<Match> WaitForStderrAsync(Regex pattern)
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            try
            {
                while (true)
                {
                    if (pattern.Match(Stderr) is { Success: true } m) return m;
                    if (_process.HasExited) break;
                    await _changed.WaitAsync(limit.Token);
                }
            }
            catch (OperationCanceledException)
            {
                // Fails below, with what the process said.
            }
            Assert.Fail($"the CLI never printed /{pattern}/; stderr: {Stderr}; stdout: {Stdout}");
            return null!;
        }

        /// <summary>The example prints its home route once its server listens.</summary>
        public Task<Match> WaitUntilServingAsync(int port, string scheme = "http") =>
            WaitForStderrAsync(new Regex($"Setting up home route on {scheme}://127\\.0\\.0\\.1:{port}/"));

        /// <summary>Waits (up to a minute) for the process to end, or fails with what it said.</summary>
        public async Task<int> WaitForExitAsync()
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"the CLI did not end within a minute (exited: {_process.HasExited}); stderr: {Stderr}; stdout: {Stdout}");
            }
            _process.WaitForExit(); // drains the asynchronous readers
            return _process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }

    /// <summary>A browser without JavaScript: cookies, and redirects followed by hand so each hop can be looked at.</summary>
    private sealed class Browser : IDisposable
    {
        private readonly HttpClientHandler _handler = new() { AllowAutoRedirect = false, CookieContainer = new CookieContainer(), UseCookies = true };
        private readonly HttpClient _client;

        public Browser() => _client = new HttpClient(_handler);

        public List<Uri> Visited { get; } = [];

        /// <summary>
        /// Follows redirects from <paramref name="url"/> until a page that is not a redirect, or a redirect off this machine
        /// (the login and consent apps of <c>login.example</c>, played by the test): then that redirect's status and target.
        /// </summary>
        public async Task<(HttpStatusCode Status, Uri Url, string Body)> GoAsync(Uri url, HttpContent? post = null)
        {
            var response = await SendAsync(url, post);
            for (var hops = 0; response.StatusCode is HttpStatusCode.Found or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect && hops < 20; hops++)
            {
                url = new Uri(url, response.Headers.Location!);
                if (!url.IsLoopback) return (response.StatusCode, url, "");
                response = await SendAsync(url, null);
            }
            return (response.StatusCode, url, await response.Content.ReadAsStringAsync());
        }

        private Task<HttpResponseMessage> SendAsync(Uri url, HttpContent? post)
        {
            Visited.Add(url);
            return post is null ? _client.GetAsync(url) : _client.PostAsync(url, post);
        }

        public void Dispose()
        {
            _client.Dispose();
            _handler.Dispose();
        }
    }

    private static FormUrlEncodedContent Form(params (string, string)[] fields) => new(fields.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2)));

    private static Dictionary<string, string> Query(Uri u) => QueryHelpers.ParseQuery(u.Query).ToDictionary(kv => kv.Key, kv => kv.Value.ToString());

    private static JsonObject JwtPayload(string jwt) =>
        JsonNode.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(jwt.Split('.')[1]))!.AsObject();

    private static async Task<TestServer> StartAsync(string db, int cliPort, Action<Gatehouse.Config.GatehouseOptions>? configure = null) =>
        await TestServer.StartAsync(db, o =>
        {
            o.Urls.Login = $"http://127.0.0.1:{cliPort}/login";
            o.Urls.Consent = $"http://127.0.0.1:{cliPort}/consent";
            configure?.Invoke(o);
        }, services => services.AddSingleton(new KeyGeneration { RsaBits = 2048 }));

    private static async Task<(string Id, string Secret)> CreateClientAsync(TestServer s, JsonObject client)
    {
        var c = await (await s.AdminWithKey.PostJson("/admin/clients", client)).Json(HttpStatusCode.Created);
        return (c["client_id"]!.GetValue<string>(), c["client_secret"]?.GetValue<string>() ?? "");
    }

    private static async Task<JsonObject> IntrospectAsync(TestServer s, string token) =>
        (await (await s.AdminWithKey.PostAsync("/admin/oauth2/introspect", Form(("token", token)))).Json(HttpStatusCode.OK)).AsObject();

    [GeneratedRegex("name=\"(?<name>[a-z_]+)\" value=\"(?<value>[^\"]*)\"")]
    private static partial Regex HiddenField();

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Authorization_code_as_client_login_and_consent_ui_then_skipped_with_form_post(string db)
    {
        var port = TestServer.FreePort();
        await using var s = await StartAsync(db, port);
        var (id, secret) = await CreateClientAsync(s, new JsonObject
        {
            ["client_name"] = "perform", ["grant_types"] = new JsonArray("authorization_code", "refresh_token"), ["response_types"] = new JsonArray("code"),
            ["scope"] = "openid offline photos.read", ["audience"] = new JsonArray("https://api.example"),
            ["redirect_uris"] = new JsonArray($"http://127.0.0.1:{port}/callback"),
        });
        using var browser = new Browser();

        // First run: the example is the client and the login and consent UI; the user types a subject and accepts.
        await using (var cli = new LiveCli("oauth2", "perform", "authorization-code", "--endpoint", s.PublicUrl, "--api-key", s.ApiKey, "--client-id", id, "--client-secret", secret,
            "--port", port.ToString(), "--no-open", "--scope", "openid,offline", "--scope", "photos.read", "--audience", "https://api.example", "--format", "json"))
        {
            await cli.WaitUntilServingAsync(port);
            var login = await browser.GoAsync(new Uri($"http://127.0.0.1:{port}/perform-flow"));
            var authorize = Query(browser.Visited[1]);
            Assert.Equal(id, authorize["client_id"]);
            Assert.Equal("S256", authorize["code_challenge_method"]);
            Assert.Equal(24, authorize["state"].Length);
            Assert.Equal("openid offline photos.read", authorize["scope"]);
            Assert.Equal("https://api.example", authorize["audience"]);
            Assert.Equal(HttpStatusCode.OK, login.Status);
            Assert.Equal($"/login", login.Url.AbsolutePath);
            var challenge = Query(login.Url)["login_challenge"];
            Assert.Contains("Login step", login.Body);
            Assert.Contains(WebUtility.HtmlEncode(challenge), login.Body);

            // A form without an action or a subject changes nothing.
            var noAction = await browser.GoAsync(new Uri($"http://127.0.0.1:{port}/login"), Form(("challenge", challenge), ("subject", "alice")));
            Assert.Equal(HttpStatusCode.BadRequest, noAction.Status);
            Assert.Contains("Invalid action", noAction.Body);

            var consent = await browser.GoAsync(new Uri($"http://127.0.0.1:{port}/login"),
                Form(("challenge", challenge), ("subject", "alice@example.com"), ("remember", "on"), ("action", "accept")));
            Assert.Equal(HttpStatusCode.OK, consent.Status);
            Assert.Equal("/consent", consent.Url.AbsolutePath);
            Assert.Contains("value=\"photos.read\"", consent.Body);
            Assert.Contains("value=\"https://api.example\"", consent.Body);
            var consentChallenge = Query(consent.Url)["consent_challenge"];

            // The user grants two of the three scopes.
            var done = await browser.GoAsync(new Uri($"http://127.0.0.1:{port}/consent"),
                Form(("challenge", consentChallenge), ("scope", "openid"), ("scope", "offline"), ("audience", "https://api.example"), ("remember", "on"), ("action", "accept")));
            Assert.Equal(HttpStatusCode.OK, done.Status);
            Assert.Equal("/callback", done.Url.AbsolutePath);
            Assert.Contains("Access Token: <code>ory_at_", done.Body);
            Assert.True(await cli.WaitForExitAsync() == 0, cli.Stderr);

            var token = JsonNode.Parse(cli.Stdout)!.AsObject();
            Assert.StartsWith("ory_rt_", token["refresh_token"]!.GetValue<string>());
            Assert.Equal("openid offline", token["scope"]!.GetValue<string>());
            var idToken = JwtPayload(token["id_token"]!.GetValue<string>());
            Assert.Equal("alice@example.com", idToken["sub"]!.GetValue<string>());
            Assert.Equal(authorize["nonce"], idToken["nonce"]!.GetValue<string>());
            var introspected = await IntrospectAsync(s, token["access_token"]!.GetValue<string>());
            Assert.True(introspected["active"]!.GetValue<bool>());
            Assert.Equal("alice@example.com", introspected["sub"]!.GetValue<string>());
            Assert.Equal(id, introspected["client_id"]!.GetValue<string>());
        }

        // Second run, --skip and form_post: the remembered login and consent are accepted without a page, and the
        // provider's auto-submitting form posts the code to /callback; the default output is Hydra's table.
        await using (var cli = new LiveCli("oauth2", "perform", "authorization-code", "--endpoint", s.PublicUrl, "--api-key", s.ApiKey, "--client-id", id, "--client-secret", secret,
            "--port", port.ToString(), "--no-open", "--skip", "--response-mode", "form_post", "--scope", "openid,offline"))
        {
            await cli.WaitUntilServingAsync(port);
            browser.Visited.Clear();
            var posted = await browser.GoAsync(new Uri($"http://127.0.0.1:{port}/perform-flow"));
            Assert.Equal(HttpStatusCode.OK, posted.Status);
            Assert.Contains(browser.Visited, u => u.Port == port && u.AbsolutePath == "/login");
            Assert.Contains(browser.Visited, u => u.Port == port && u.AbsolutePath == "/consent");
            var fields = HiddenField().Matches(posted.Body).ToDictionary(m => m.Groups["name"].Value, m => WebUtility.HtmlDecode(m.Groups["value"].Value));
            Assert.True(fields.ContainsKey("code"), posted.Body);
            var done = await browser.GoAsync(new Uri($"http://127.0.0.1:{port}/callback"), Form([.. fields.Select(f => (f.Key, f.Value))]));
            Assert.Equal(HttpStatusCode.OK, done.Status);
            Assert.True(await cli.WaitForExitAsync() == 0, cli.Stderr);
            Assert.Matches(new Regex("^ACCESS TOKEN\tory_at_\\S+\nREFRESH TOKEN\tory_rt_\\S+\nID TOKEN\tey\\S+\nEXPIRY\t\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\n$"), cli.Stdout.ReplaceLineEndings("\n"));
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Authorization_code_denied_or_with_a_forged_state_ends_with_an_error_and_no_token(string db)
    {
        var port = TestServer.FreePort();
        await using var s = await StartAsync(db, port);
        var (id, _) = await CreateClientAsync(s, new JsonObject
        {
            ["grant_types"] = new JsonArray("authorization_code"), ["response_types"] = new JsonArray("code"), ["scope"] = "openid",
            ["redirect_uris"] = new JsonArray($"http://127.0.0.1:{port}/callback"), ["token_endpoint_auth_method"] = "none",
        });
        using var browser = new Browser();

        // A public client (no secret; PKCE is what the provider requires of it): the user denies at the login step.
        await using (var cli = new LiveCli("oauth2", "perform", "authorization-code", "--endpoint", s.PublicUrl, "--api-key", s.ApiKey, "--client-id", id,
            "--port", port.ToString(), "--no-open", "--scope", "openid", "--format", "json"))
        {
            await cli.WaitUntilServingAsync(port);
            var login = await browser.GoAsync(new Uri($"http://127.0.0.1:{port}/perform-flow"));
            var challenge = Query(login.Url)["login_challenge"];
            var denied = await browser.GoAsync(new Uri($"http://127.0.0.1:{port}/login"), Form(("challenge", challenge), ("subject", ""), ("action", "deny")));
            Assert.Equal(HttpStatusCode.BadRequest, denied.Status);
            Assert.Equal("/callback", denied.Url.AbsolutePath);
            Assert.Contains("access_denied", denied.Body);
            Assert.Equal(1, await cli.WaitForExitAsync());
            Assert.Contains("Got error: access_denied", cli.Stderr);
            Assert.Equal("", cli.Stdout);
        }

        // A callback whose state is not the one sent is refused before any exchange.
        await using (var cli = new LiveCli("oauth2", "perform", "authorization-code", "--endpoint", s.PublicUrl, "--client-id", id, "--port", port.ToString(), "--no-open"))
        {
            await cli.WaitUntilServingAsync(port);
            var forged = await browser.GoAsync(new Uri($"http://127.0.0.1:{port}/callback?code=anything&state=forged"));
            Assert.Equal(HttpStatusCode.BadRequest, forged.Status);
            Assert.Contains("States do not match", forged.Body);
            Assert.Equal(1, await cli.WaitForExitAsync());
            Assert.Equal("", cli.Stdout);
        }

        // Bad input: no client id, a port that is taken, a bad token URL — one line, exit code 1.
        var noClient = await CliProcess.RunAsync(["oauth2", "perform", "authorization-code", "--endpoint", s.PublicUrl, "--no-open"], new Dictionary<string, string> { ["OAUTH2_CLIENT_ID"] = "" });
        Assert.Equal(1, noClient.ExitCode);
        Assert.Equal("error: a client id is needed: --client-id or $OAUTH2_CLIENT_ID", noClient.Stderr.Trim());
        var taken = await CliProcess.RunAsync(["oauth2", "perform", "authorization-code", "--endpoint", s.PublicUrl, "--client-id", id, "--no-open", "--port", new Uri(s.PublicUrl).Port.ToString()]);
        Assert.Equal(1, taken.ExitCode);
        Assert.StartsWith("error: ", taken.Stderr.Trim());
        var badUrl = await CliProcess.RunAsync(["oauth2", "perform", "authorization-code", "--endpoint", s.PublicUrl, "--client-id", id, "--no-open", "--token-url", "ftp://x"]);
        Assert.Equal(1, badUrl.ExitCode);
        Assert.Equal("error: --token-url \"ftp://x\" is not an http(s) URL", badUrl.Stderr.Trim());
    }

    [Fact]
    public async Task Https_and_no_shutdown_keep_serving_with_a_new_state_until_interrupted()
    {
        var port = TestServer.FreePort();
        await using var s = await StartAsync("sqlite", port);
        await using var cli = new LiveCli("oauth2", "perform", "authorization-code", "--endpoint", s.PublicUrl, "--client-id", "any", "--port", port.ToString(), "--no-open", "--https", "--no-shutdown");
        await cli.WaitUntilServingAsync(port, "https");

        // A certificate made for this start: self-signed, for 127.0.0.1 and localhost.
        X509Certificate2? seen = null;
        using var handler = new HttpClientHandler
        {
            AllowAutoRedirect = false,
            ServerCertificateCustomValidationCallback = (_, cert, _, _) =>
            {
                seen = X509CertificateLoader.LoadCertificate(cert!.RawData);
                return true;
            },
        };
        using var https = new HttpClient(handler);
        var home = await https.GetStringAsync($"https://127.0.0.1:{port}/");
        Assert.NotNull(seen);
        Assert.Equal("CN=127.0.0.1", seen.Subject);
        Assert.Equal(seen.Subject, seen.Issuer);
        Assert.Contains("localhost", seen.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
        var first = Query(new Uri(WebUtility.HtmlDecode(Regex.Match(home, "href=\"(?<u>[^\"]+)\"").Groups["u"].Value)));
        Assert.Equal($"https://127.0.0.1:{port}/callback", first["redirect_uri"]);

        // A refused callback ends that attempt only: the server stays, with a new state and nonce.
        var forged = await https.GetAsync($"https://127.0.0.1:{port}/callback?code=x&state=forged");
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        var again = Query(new Uri((await https.GetAsync($"https://127.0.0.1:{port}/perform-flow")).Headers.Location!.AbsoluteUri));
        Assert.NotEqual(first["state"], again["state"]);
        Assert.NotEqual(first["nonce"], again["nonce"]);
        Assert.NotEqual(first["code_challenge"], again["code_challenge"]);

        // Ctrl+C ends it normally (the browser's connections closed first, as a browser's would be idle by then).
        https.Dispose();
        using (var interrupt = Process.Start("kill", ["-s", "INT", cli.Pid.ToString()])) await interrupt.WaitForExitAsync();
        Assert.Equal(0, await cli.WaitForExitAsync());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Device_code_prints_where_to_sign_in_polls_and_prints_the_tokens(string db)
    {
        var port = TestServer.FreePort();
        const string LoginUrl = "https://login.example/login";
        await using var s = await TestServer.StartAsync(db, o =>
        {
            o.Urls.Login = LoginUrl;
            o.Urls.Consent = "https://login.example/consent";
            o.Urls.Device.Verification = $"http://127.0.0.1:{port}/device";
            o.Urls.Device.Success = $"http://127.0.0.1:{port}/device/done";
            o.Oauth2.DeviceAuthorization.TokenPollingInterval = TimeSpan.FromSeconds(1);
        }, services => services.AddSingleton(new KeyGeneration { RsaBits = 2048 }));
        var (id, _) = await CreateClientAsync(s, new JsonObject
        {
            ["grant_types"] = new JsonArray("urn:ietf:params:oauth:grant-type:device_code", "refresh_token"), ["scope"] = "openid offline",
            ["token_endpoint_auth_method"] = "none",
        });

        await using var cli = new LiveCli("oauth2", "perform", "device-code", "--endpoint", s.PublicUrl, "--api-key", s.ApiKey, "--client-id", id, "--port", port.ToString(), "--format", "json");
        var go = await cli.WaitForStderrAsync(new Regex("To login please go to:\\s+(?<url>\\S+)"));
        var verificationUrl = new Uri(go.Groups["url"].Value);
        Assert.StartsWith(s.PublicUrl.TrimEnd('/') + "/oauth2/device/verify", verificationUrl.AbsoluteUri);
        var userCode = Query(verificationUrl)["user_code"];

        using var browser = new Browser();
        // The provider sends the browser to the example's user-code page, which shows the code from the complete URI.
        var page = await browser.GoAsync(verificationUrl);
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Equal("/device", page.Url.AbsolutePath);
        Assert.Contains($"value=\"{WebUtility.HtmlEncode(userCode)}\"", page.Body);
        var challenge = Query(page.Url)["device_challenge"];
        var empty = await browser.GoAsync(new Uri($"http://127.0.0.1:{port}/device"), Form(("device_challenge", challenge), ("user_code", " ")));
        Assert.Equal(HttpStatusCode.BadRequest, empty.Status);

        // The code accepted, the provider asks the login app (played here through the admin API), then the consent app.
        var atLogin = await browser.GoAsync(new Uri($"http://127.0.0.1:{port}/device"), Form(("device_challenge", challenge), ("user_code", userCode)));
        Assert.True(atLogin.Url.AbsoluteUri.StartsWith(LoginUrl, StringComparison.Ordinal), $"{atLogin.Status} {atLogin.Url}: {atLogin.Body}");
        var loginChallenge = Query(atLogin.Url)["login_challenge"];
        var accepted = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/login/accept?login_challenge={loginChallenge}", """{"subject":"tv-user"}""")).Json(HttpStatusCode.OK);
        var atConsent = await browser.GoAsync(new Uri(accepted["redirect_to"]!.GetValue<string>()));
        var consentChallenge = Query(atConsent.Url)["consent_challenge"];
        var consented = await (await s.AdminWithKey.PutJson($"/admin/oauth2/auth/requests/consent/accept?consent_challenge={consentChallenge}", """{"grant_scope":["openid","offline"]}""")).Json(HttpStatusCode.OK);
        var finished = await browser.GoAsync(new Uri(consented["redirect_to"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.OK, finished.Status);
        Assert.Equal("/device/done", finished.Url.AbsolutePath);

        Assert.True(await cli.WaitForExitAsync() == 0, cli.Stderr);
        Assert.Contains("Successfully signed in!", cli.Stderr);
        var token = JsonNode.Parse(cli.Stdout)!.AsObject();
        Assert.StartsWith("ory_rt_", token["refresh_token"]!.GetValue<string>());
        Assert.Equal("tv-user", JwtPayload(token["id_token"]!.GetValue<string>())["sub"]!.GetValue<string>());
        Assert.True((await IntrospectAsync(s, token["access_token"]!.GetValue<string>()))["active"]!.GetValue<bool>());

        // A client the provider does not know: the device authorization request fails, with the provider's error.
        var unknown = await CliProcess.RunAsync(["oauth2", "perform", "device-code", "--endpoint", s.PublicUrl, "--client-id", "no-such-client"]);
        Assert.Equal(1, unknown.ExitCode);
        Assert.StartsWith("error: Failed to perform the device authorization request: 401 invalid_client", unknown.Stderr.Trim());
    }
}
