using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gatehouse.Cli;

/// <summary>
/// Hydra's example clients, <c>hydra perform authorization-code</c> and <c>hydra perform device-code</c>: small local web
/// servers for trying the provider by hand (the authorization code flow's client, and optionally its login and consent
/// UI; the device flow's user-code page). For manual tests and demos only.
/// </summary>
internal static partial class OAuth2Command
{
    private static Option<string> ClientIdOption() => new("--client-id") { Description = "The client's id. Default: $OAUTH2_CLIENT_ID." };

    private static Option<string> ClientSecretOption() => new("--client-secret") { Description = "The client's secret. Default: $OAUTH2_CLIENT_SECRET." };

    private static string RequiredClientId(ParseResult parse, Option<string> option) =>
        NonEmpty(parse.GetValue(option)) ?? NonEmpty(Environment.GetEnvironmentVariable("OAUTH2_CLIENT_ID"))
        ?? throw new ArgumentException("a client id is needed: --client-id or $OAUTH2_CLIENT_ID");

    private static string? ClientSecret(ParseResult parse, Option<string> option) =>
        NonEmpty(parse.GetValue(option)) ?? NonEmpty(Environment.GetEnvironmentVariable("OAUTH2_CLIENT_SECRET"));

    private static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    /// <summary>A token answer as Hydra's CLI prints it (<c>outputOAuth2Token</c>): one token vertically, or the JSON.</summary>
    private static void PrintToken(ParseResult parse, JsonObject token, DateTime issuedAt)
    {
        if (parse.GetValue(Format) != "default")
        {
            PrintJson(parse, token);
            return;
        }
        var expiry = token["expires_in"] is JsonValue e && e.TryGetValue<long>(out var seconds)
            ? issuedAt.AddSeconds(seconds).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) : "";
        static string OrEmpty(string s) => s.Length == 0 ? "<empty>" : s;
        Vertical(["ACCESS TOKEN", "REFRESH TOKEN", "ID TOKEN", "EXPIRY"],
            [Str(token, "access_token"), OrEmpty(Str(token, "refresh_token")), OrEmpty(Str(token, "id_token")), expiry]);
    }

    /// <summary>The loopback port a local server listens on: 1–65535.</summary>
    private static int Port(int port) =>
        port is >= 1 and <= 65535 ? port : throw new ArgumentException($"--port {port} is not a port number (1-65535)");

    /// <summary>A minimal Kestrel host on 127.0.0.1 (never other interfaces), without the server's configuration or logs.</summary>
    private static WebApplication LocalServer(int port, X509Certificate2? certificate)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(IPAddress.Loopback, port, l =>
            {
                l.Protocols = HttpProtocols.Http1;
                if (certificate is not null) l.UseHttps(certificate);
            });
        });
        return builder.Build();
    }

    /// <summary>
    /// Hydra's <c>--https</c>: a self-signed certificate for 127.0.0.1 and localhost, made anew at every start (RSA 2048,
    /// valid a day). Loaded back from PKCS#12 so Kestrel gets a key it can use on every platform.
    /// </summary>
    private static X509Certificate2 SelfSignedCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    private static string Html(string? s) => WebUtility.HtmlEncode(s ?? "");

    private static IResult Page(string title, string body, int status = 200) => Results.Content(
        $"<!doctype html><html><head><meta charset=\"utf-8\"><title>{Html(title)}</title></head><body><h1>{Html(title)}</h1>{body}</body></html>",
        "text/html; charset=utf-8", Encoding.UTF8, status);

    private static IResult ErrorPage(string name, string? description, int status, string? hint = null) =>
        Page("An error occurred", $"<h2>{Html(name)}</h2><p>{Html(description)}</p>{(string.IsNullOrEmpty(hint) ? "" : $"<p>{Html(hint)}</p>")}", status);

    private static string PrettyJson(JsonNode node) => node.ToJsonString(Pretty);

    // ---- perform authorization-code ----

    private static Command PerformAuthorizationCode()
    {
        var clientId = ClientIdOption();
        var clientSecret = ClientSecretOption();
        var port = new Option<int>("--port", "-p") { Description = "The port the example client listens on (127.0.0.1).", DefaultValueFactory = _ => 4446 };
        var scopes = Strings("--scope", "Scopes to request.", "offline", "openid");
        var prompt = Strings("--prompt", "The OpenID Connect prompt parameter.");
        var maxAge = new Option<int>("--max-age") { Description = "The OpenID Connect max_age parameter; -1 sends none.", DefaultValueFactory = _ => -1 };
        var noShutdown = new Option<bool>("--no-shutdown") { Description = "Keep serving after a flow ended (state and nonce are made anew); stop with Ctrl+C." };
        var noOpen = new Option<bool>("--no-open") { Description = "Do not open a browser window." };
        var state = new Option<string>("--state") { Description = "Force the state value (insecure)." };
        var redirect = new Option<string>("--redirect") { Description = "Force the redirect URL (default: this server's /callback)." };
        var audience = Strings("--audience", "Access token audiences to request.");
        var authUrl = new Option<string>("--auth-url") { Description = "The authorization endpoint, when not <endpoint>/oauth2/auth." };
        var tokenUrl = new Option<string>("--token-url") { Description = "The token endpoint, when not <endpoint>/oauth2/token." };
        var https = new Option<bool>("--https") { Description = "Serve over HTTPS with a self-signed certificate made at every start." };
        var skip = new Option<bool>("--skip") { Description = "As login and consent UI (urls.login / urls.consent pointing here): accept at once when the provider says the step may be skipped." };
        var responseMode = new Option<string>("--response-mode") { Description = "The response mode: query (the provider's default) or form_post." };
        var command = new Command("authorization-code",
            "An example OAuth 2.0 client performing the authorization code flow (with PKCE) in your browser; it can also serve as the provider's login and consent UI. The server ends after the first flow unless --no-shutdown.")
        {
            clientId, clientSecret, port, scopes, prompt, maxAge, noShutdown, noOpen, state, redirect, audience, authUrl, tokenUrl, https, skip, responseMode,
        };
        command.SetAction((parse, ct) => Run(parse, api =>
        {
            var listenPort = Port(parse.GetValue(port));
            var useHttps = parse.GetValue(https);
            var serverLocation = $"{(useHttps ? "https" : "http")}://127.0.0.1:{listenPort}/";
            var demo = new AuthorizationCodeDemo(api, parse)
            {
                ClientId = RequiredClientId(parse, clientId),
                ClientSecret = ClientSecret(parse, clientSecret),
                ServerLocation = serverLocation,
                RedirectUri = NonEmpty(parse.GetValue(redirect)) ?? serverLocation + "callback",
                AuthUrl = ValidUrl(NonEmpty(parse.GetValue(authUrl)), "--auth-url") ?? api.Resolve("oauth2/auth"),
                TokenUrl = ValidUrl(NonEmpty(parse.GetValue(tokenUrl)), "--token-url") ?? api.Resolve("oauth2/token"),
                Scopes = List(parse, scopes),
                Audience = List(parse, audience),
                Prompt = List(parse, prompt),
                MaxAge = parse.GetValue(maxAge),
                ResponseMode = NonEmpty(parse.GetValue(responseMode)),
                FixedState = NonEmpty(parse.GetValue(state)),
                Skip = parse.GetValue(skip),
                KeepServing = parse.GetValue(noShutdown),
            };
            return demo.RunAsync(listenPort, useHttps ? SelfSignedCertificate() : null, !parse.GetValue(noOpen), ct);
        }));
        return command;
    }

    private static Uri? ValidUrl(string? url, string flag) =>
        url is null ? null
        : Uri.TryCreate(url, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" ? u
        : throw new ArgumentException($"{flag} \"{url}\" is not an http(s) URL");

    /// <summary>
    /// The example client's server: <c>/</c> links to the authorization URL (<c>/perform-flow</c> redirects there),
    /// <c>/callback</c> (GET, and POST for <c>form_post</c>) checks the state and exchanges the code, printing the tokens;
    /// <c>/login</c> and <c>/consent</c> are a bare login and consent UI through the admin API, for a server whose
    /// <c>urls.login</c> / <c>urls.consent</c> point here (any subject is accepted: this is a test tool).
    /// </summary>
    private sealed class AuthorizationCodeDemo(Api api, ParseResult parse)
    {
        private readonly Lock _gate = new();
        private readonly TaskCompletionSource<bool> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private (string State, string Nonce, string Verifier, Uri Url) _attempt;

        public required string ClientId { get; init; }
        public required string? ClientSecret { get; init; }
        public required string ServerLocation { get; init; }
        public required string RedirectUri { get; init; }
        public required Uri AuthUrl { get; init; }
        public required Uri TokenUrl { get; init; }
        public required List<string> Scopes { get; init; }
        public required List<string> Audience { get; init; }
        public required List<string> Prompt { get; init; }
        public required int MaxAge { get; init; }
        public required string? ResponseMode { get; init; }
        public required string? FixedState { get; init; }
        public required bool Skip { get; init; }
        public required bool KeepServing { get; init; }

        public async Task<int> RunAsync(int port, X509Certificate2? certificate, bool openBrowser, CancellationToken ct)
        {
            NewAttempt();
            await using var app = LocalServer(port, certificate);
            app.MapGet("/", () => Page("An example OAuth 2.0 client",
                "<p>This page plays an application that signs its users in with the OAuth 2.0 authorization code flow (with PKCE). " +
                "It asks for an access token, a refresh token (scope <code>offline</code>) and an ID token (scope <code>openid</code>).</p>" +
                $"<p><a href=\"{Html(Current.Url.AbsoluteUri)}\">Authorize application</a></p>"));
            app.MapGet("/perform-flow", () => Results.Redirect(Current.Url.AbsoluteUri));
            app.MapGet("/login", (Func<HttpContext, Task<IResult>>)LoginPageAsync);
            app.MapPost("/login", (Func<HttpContext, Task<IResult>>)LoginSubmitAsync);
            app.MapGet("/consent", (Func<HttpContext, Task<IResult>>)ConsentPageAsync);
            app.MapPost("/consent", (Func<HttpContext, Task<IResult>>)ConsentSubmitAsync);
            app.MapGet("/callback", (Func<HttpContext, Task<IResult>>)CallbackAsync);
            app.MapPost("/callback", async (HttpContext http) =>
            {
                // form_post: the same parameters, answered by the GET handler.
                var form = await http.Request.ReadFormAsync(http.RequestAborted);
                var query = QueryString.Create(form.Select(f => new KeyValuePair<string, string?>(f.Key, f.Value.ToString())));
                return Results.Redirect("/callback" + query.ToUriComponent());
            });
            await app.StartAsync(ct);
            Console.Error.WriteLine($"Setting up home route on {ServerLocation}");
            Console.Error.WriteLine($"Setting up callback listener on {ServerLocation}callback");
            Console.Error.WriteLine("Press Ctrl+C to end the process.");
            Console.Error.WriteLine($"If your browser does not open automatically, navigate to:\n\n\t{ServerLocation}\n");
            if (openBrowser) TryOpenBrowser(ServerLocation);
            bool succeeded;
            try
            {
                succeeded = await _ended.Task.WaitAsync(ct);
            }
            catch (OperationCanceledException)
            {
                succeeded = true; // Ctrl+C ends the process normally, as Hydra's does.
            }
            await app.StopAsync(CancellationToken.None);
            return succeeded ? 0 : 1;
        }

        private (string State, string Nonce, string Verifier, Uri Url) Current
        {
            get
            {
                lock (_gate) return _attempt;
            }
        }

        /// <summary>A fresh state (24 lower-case letters, as Hydra's), nonce and PKCE verifier, and the URL that carries them.</summary>
        private void NewAttempt()
        {
            var state = FixedState ?? RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz", 24);
            var nonce = RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz", 24);
            var verifier = Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
            var query = new List<KeyValuePair<string, string?>>
            {
                new("client_id", ClientId), new("redirect_uri", RedirectUri), new("response_type", "code"), new("scope", string.Join(' ', Scopes)),
                new("state", state), new("nonce", nonce),
                new("code_challenge", Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)))), new("code_challenge_method", "S256"),
            };
            if (Audience.Count > 0) query.Add(new("audience", string.Join(' ', Audience)));
            if (Prompt.Count > 0) query.Add(new("prompt", string.Join(' ', Prompt)));
            if (MaxAge >= 0) query.Add(new("max_age", MaxAge.ToString(CultureInfo.InvariantCulture)));
            if (ResponseMode is not null) query.Add(new("response_mode", ResponseMode));
            var url = new UriBuilder(AuthUrl);
            var existing = url.Query.TrimStart('?');
            var added = QueryString.Create(query).ToUriComponent().TrimStart('?');
            url.Query = existing.Length == 0 ? added : existing + "&" + added;
            lock (_gate) _attempt = (state, nonce, verifier, url.Uri);
        }

        private static string Base64UrlEncode(byte[] bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

        /// <summary>The flow ended (a token, or an error): stop, or start over with new values under <c>--no-shutdown</c>.</summary>
        private void Ended(bool succeeded)
        {
            if (KeepServing) NewAttempt();
            else _ended.TrySetResult(succeeded);
        }

        private async Task<IResult> CallbackAsync(HttpContext http)
        {
            var q = http.Request.Query;
            var attempt = Current;
            if (!string.IsNullOrEmpty(q["error"]))
            {
                Console.Error.WriteLine($"Got error: {q["error"]}: {q["error_description"]}");
                Ended(false);
                return ErrorPage(q["error"].ToString(), q["error_description"], 400, q["error_hint"]);
            }
            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(q["state"].ToString()), Encoding.UTF8.GetBytes(attempt.State)))
            {
                var description = $"The state in the callback ({q["state"]}) is not the one this client sent.";
                Console.Error.WriteLine(description);
                Ended(false);
                return ErrorPage("States do not match", description, 400);
            }
            var issuedAt = DateTime.UtcNow;
            JsonObject token;
            try
            {
                token = await ExchangeAsync(q["code"].ToString(), attempt.Verifier, http.RequestAborted);
            }
            catch (InvalidOperationException e)
            {
                Console.Error.WriteLine($"Unable to exchange code for token: {CliContext.OneLine(e.Message)}");
                Ended(false);
                return ErrorPage("Unable to exchange the code for a token", e.Message, 502);
            }
            PrintToken(parse, token, issuedAt);
            var page = Page("Tokens",
                "<ul>" +
                $"<li>Access Token: <code>{Html(Str(token, "access_token"))}</code></li>" +
                $"<li>Refresh Token: <code>{Html(Str(token, "refresh_token"))}</code></li>" +
                $"<li>Expires in: <code>{Html(token["expires_in"]?.ToJsonString())}</code> seconds</li>" +
                $"<li>ID Token: <code>{Html(Str(token, "id_token"))}</code></li>" +
                "</ul>" + (KeepServing ? $"<p><a href=\"{Html(ServerLocation)}\">Back to the start</a></p>" : ""));
            Ended(true);
            return page;
        }

        /// <summary>
        /// The code for tokens at the token endpoint: with a secret, <c>client_secret_basic</c> first and then
        /// <c>client_secret_post</c> when the client is refused (as Go's oauth2 package, which Hydra's CLI uses, detects
        /// the method); without one, a public client (<c>none</c>).
        /// </summary>
        private async Task<JsonObject> ExchangeAsync(string code, string verifier, CancellationToken ct)
        {
            List<KeyValuePair<string, string>> Form() =>
                [new("grant_type", "authorization_code"), new("code", code), new("redirect_uri", RedirectUri), new("code_verifier", verifier)];
            if (ClientSecret is null)
                return await api.TokenAsync(TokenUrl, [.. Form(), new("client_id", ClientId)], null, ct);
            var (status, answer) = await api.TryTokenAsync(TokenUrl, Form(), ClientBasic(ClientId, ClientSecret), ct);
            if (status == 200 && answer is JsonObject ok) return ok;
            if (Str(answer as JsonObject ?? new JsonObject(), "error") != "invalid_client") throw new InvalidOperationException(Api.Describe(status, answer));
            return await api.TokenAsync(TokenUrl, [.. Form(), new("client_id", ClientId), new("client_secret", ClientSecret)], null, ct);
        }

        private async Task<IResult> LoginPageAsync(HttpContext http)
        {
            var challenge = http.Request.Query["login_challenge"].ToString();
            if (challenge.Length == 0) return ErrorPage("login_challenge is missing", "The provider sends the browser here with a login_challenge.", 400);
            var ct = http.RequestAborted;
            try
            {
                var request = await RequestAsync("login", challenge, ct);
                var skip = request["skip"]?.GetValue<bool>() == true;
                if (Skip && skip)
                {
                    return await AnswerAsync("login", challenge, "accept", new JsonObject { ["subject"] = Str(request, "subject") }, ct);
                }
                return Page("Login step",
                    "<form action=\"/login\" method=\"post\">" +
                    $"<input type=\"hidden\" name=\"challenge\" value=\"{Html(challenge)}\">" +
                    $"<p><label>Subject <input type=\"text\" name=\"subject\" value=\"{Html(Str(request, "subject"))}\" required></label></p>" +
                    "<p><label><input type=\"checkbox\" name=\"remember\" checked> Remember the login</label></p>" +
                    "<p><label><input type=\"checkbox\" name=\"revoke_consents\"> Revoke this subject's earlier consents</label></p>" +
                    "<button type=\"submit\" name=\"action\" value=\"accept\">Accept</button> " +
                    "<button type=\"submit\" name=\"action\" value=\"deny\">Deny</button>" +
                    "</form>" +
                    (skip ? "<p><b>The provider knows this user: the login could be skipped.</b></p>" : "<p>No remembered login.</p>") +
                    $"<h2>The login request</h2><pre>{Html(PrettyJson(request))}</pre>");
            }
            catch (InvalidOperationException e)
            {
                return ErrorPage("The admin API refused", e.Message, 502);
            }
        }

        private async Task<IResult> LoginSubmitAsync(HttpContext http)
        {
            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            var (challenge, subject, action) = (form["challenge"].ToString(), form["subject"].ToString().Trim(), form["action"].ToString());
            if (challenge.Length == 0) return ErrorPage("challenge is missing", "Submit the login form this server shows.", 400);
            if (action is not ("accept" or "deny")) return ErrorPage("Invalid action", "The action is accept or deny.", 400);
            if (action == "accept" && subject.Length == 0) return ErrorPage("subject is missing", "Type the subject to sign in as.", 400);
            var ct = http.RequestAborted;
            try
            {
                if (form["revoke_consents"] == "on" && subject.Length > 0)
                {
                    try
                    {
                        await api.SendAsync(HttpMethod.Delete, $"admin/oauth2/auth/sessions/consent?subject={Uri.EscapeDataString(subject)}&all=true", null, ct);
                        Console.Error.WriteLine("Revoked all previous consents");
                    }
                    catch (InvalidOperationException e)
                    {
                        Console.Error.WriteLine($"Error revoking previous consents: {CliContext.OneLine(e.Message)}");
                    }
                }
                return action == "accept"
                    ? await AnswerAsync("login", challenge, "accept", new JsonObject { ["subject"] = subject, ["remember"] = form["remember"] == "on", ["remember_for"] = 3600 }, ct)
                    : await AnswerAsync("login", challenge, "reject", Denied(), ct);
            }
            catch (InvalidOperationException e)
            {
                return ErrorPage("The admin API refused", e.Message, 502);
            }
        }

        private async Task<IResult> ConsentPageAsync(HttpContext http)
        {
            var challenge = http.Request.Query["consent_challenge"].ToString();
            if (challenge.Length == 0) return ErrorPage("consent_challenge is missing", "The provider sends the browser here with a consent_challenge.", 400);
            var ct = http.RequestAborted;
            try
            {
                var request = await RequestAsync("consent", challenge, ct);
                var scopes = Values(request["requested_scope"]);
                var audiences = Values(request["requested_access_token_audience"]);
                var skip = request["skip"]?.GetValue<bool>() == true;
                if (Skip && skip)
                {
                    return await AnswerAsync("consent", challenge, "accept",
                        new JsonObject { ["grant_scope"] = Array(scopes), ["grant_access_token_audience"] = Array(audiences), ["remember"] = true, ["remember_for"] = 3600 }, ct);
                }
                var subject = Str(request, "subject");
                var session = Str(request, "login_session_id");
                var previous = await api.SendAsync(HttpMethod.Get,
                    $"admin/oauth2/auth/sessions/consent?subject={Uri.EscapeDataString(subject)}" + (session.Length > 0 ? "&login_session_id=" + Uri.EscapeDataString(session) : ""), null, ct);
                var sb = new StringBuilder("<form action=\"/consent\" method=\"post\">");
                sb.Append(CultureInfo.InvariantCulture, $"<input type=\"hidden\" name=\"challenge\" value=\"{Html(challenge)}\">");
                if (audiences.Count == 0) sb.Append("<p>No access token audience requested.</p>");
                else
                {
                    sb.Append("<h2>Requested audiences</h2><ul>");
                    foreach (var a in audiences) sb.Append(CultureInfo.InvariantCulture, $"<li><input type=\"hidden\" name=\"audience\" value=\"{Html(a)}\">{Html(a)}</li>");
                    sb.Append("</ul>");
                }
                if (scopes.Count == 0) sb.Append("<p>No scope requested.</p>");
                else
                {
                    sb.Append("<h2>Requested scopes</h2>");
                    foreach (var s in scopes) sb.Append(CultureInfo.InvariantCulture, $"<p><label><input type=\"checkbox\" name=\"scope\" value=\"{Html(s)}\" checked> {Html(s)}</label></p>");
                }
                sb.Append("<p><label><input type=\"checkbox\" name=\"remember\" checked> Remember the consent</label></p>");
                sb.Append("<button type=\"submit\" name=\"action\" value=\"accept\">Accept</button> <button type=\"submit\" name=\"action\" value=\"deny\">Deny</button></form>");
                sb.Append(skip ? "<p><b>A remembered consent covers this request: the consent could be skipped.</b></p>" : "<p>No remembered consent covers this request, or the client asked to be consented again.</p>");
                sb.Append(CultureInfo.InvariantCulture, $"<h2>Earlier consents of this login session ({Html(session)})</h2><pre>{Html(PrettyJson(previous))}</pre>");
                sb.Append(CultureInfo.InvariantCulture, $"<h2>The consent request</h2><pre>{Html(PrettyJson(request))}</pre>");
                return Page("Consent step", sb.ToString());
            }
            catch (InvalidOperationException e)
            {
                return ErrorPage("The admin API refused", e.Message, 502);
            }
        }

        private async Task<IResult> ConsentSubmitAsync(HttpContext http)
        {
            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            var (challenge, action) = (form["challenge"].ToString(), form["action"].ToString());
            if (challenge.Length == 0) return ErrorPage("challenge is missing", "Submit the consent form this server shows.", 400);
            if (action is not ("accept" or "deny")) return ErrorPage("Invalid action", "The action is accept or deny.", 400);
            try
            {
                var granted = new JsonObject
                {
                    ["grant_scope"] = Array(form["scope"].OfType<string>()), ["grant_access_token_audience"] = Array(form["audience"].OfType<string>()),
                    ["remember"] = form["remember"] == "on", ["remember_for"] = 3600,
                };
                return action == "accept"
                    ? await AnswerAsync("consent", challenge, "accept", granted, http.RequestAborted)
                    : await AnswerAsync("consent", challenge, "reject", Denied(), http.RequestAborted);
            }
            catch (InvalidOperationException e)
            {
                return ErrorPage("The admin API refused", e.Message, 502);
            }
        }

        /// <summary>The login or consent request behind a challenge (<c>getOAuth2LoginRequest</c> / <c>getOAuth2ConsentRequest</c>).</summary>
        private async Task<JsonObject> RequestAsync(string kind, string challenge, CancellationToken ct) =>
            (JsonObject)await api.SendAsync(HttpMethod.Get, $"admin/oauth2/auth/requests/{kind}?{kind}_challenge={Uri.EscapeDataString(challenge)}", null, ct);

        /// <summary>Accepts or rejects a login or consent request, then sends the browser where the provider says.</summary>
        private async Task<IResult> AnswerAsync(string kind, string challenge, string verb, JsonObject body, CancellationToken ct)
        {
            var answer = await api.SendAsync(HttpMethod.Put, $"admin/oauth2/auth/requests/{kind}/{verb}?{kind}_challenge={Uri.EscapeDataString(challenge)}", Json(body), ct);
            var next = Str(answer as JsonObject ?? new JsonObject(), "redirect_to");
            return next.Length == 0 ? ErrorPage("The admin API answered without redirect_to", answer.ToJsonString(), 502) : Results.Redirect(next);
        }

        private static JsonObject Denied() => new() { ["error"] = "access_denied", ["error_description"] = "The resource owner denied the request" };

        private static List<string> Values(JsonNode? values) => values is JsonArray a ? [.. a.Select(v => v?.GetValue<string>() ?? "").Where(v => v.Length > 0)] : [];
    }

    /// <summary>
    /// Hydra opens the browser on its start page. Gatehouse does so where a browser can be shown: on Windows and macOS, and
    /// on Linux only with a display (without one <c>xdg-open</c> may start a text browser in the same terminal). Failing
    /// is fine: the URL is printed.
    /// </summary>
    private static void TryOpenBrowser(string url)
    {
        if (OperatingSystem.IsLinux() && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DISPLAY")) && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("WAYLAND_DISPLAY"))) return;
        try
        {
            using var _ = Process.Start(new ProcessStartInfo(url) { UseShellExecute = true });
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or PlatformNotSupportedException)
        {
            // The URL is on the terminal.
        }
    }

    // ---- perform device-code ----

    private static Command PerformDeviceCode()
    {
        var clientId = ClientIdOption();
        var clientSecret = ClientSecretOption();
        var scopes = Strings("--scope", "Scopes to request.", "offline", "openid");
        var audience = Strings("--audience", "Access token audiences to request.");
        var deviceAuthUrl = new Option<string>("--device-auth-url") { Description = "The device authorization endpoint, when not <endpoint>/oauth2/device/auth." };
        var tokenUrl = new Option<string>("--token-url") { Description = "The token endpoint, when not <endpoint>/oauth2/token." };
        var port = new Option<int>("--port", "-p")
        {
            Description = "Also serve a user-code page on this port (127.0.0.1); point urls.device.verification at http://127.0.0.1:<port>/device. -1: none.",
            DefaultValueFactory = _ => -1,
        };
        var command = new Command("device-code",
            "An example device performing the OAuth 2.0 device authorization grant: prints where to sign in, polls the token endpoint, prints the tokens. The client authenticates with none or client_secret_post.")
        {
            clientId, clientSecret, scopes, audience, deviceAuthUrl, tokenUrl, port,
        };
        command.SetAction((parse, ct) => Run(parse, async api =>
        {
            var id = RequiredClientId(parse, clientId);
            var secret = ClientSecret(parse, clientSecret);
            var authorizeAt = ValidUrl(NonEmpty(parse.GetValue(deviceAuthUrl)), "--device-auth-url") ?? api.Resolve("oauth2/device/auth");
            var tokenAt = ValidUrl(NonEmpty(parse.GetValue(tokenUrl)), "--token-url") ?? api.Resolve("oauth2/token");
            WebApplication? page = null;
            if (parse.GetValue(port) != -1)
            {
                page = UserCodePage(api, Port(parse.GetValue(port)));
                await page.StartAsync(ct);
            }
            try
            {
                var client = new List<KeyValuePair<string, string>> { new("client_id", id) };
                if (secret is not null) client.Add(new("client_secret", secret));
                var request = new List<KeyValuePair<string, string>>(client);
                if (List(parse, scopes) is { Count: > 0 } s) request.Add(new("scope", string.Join(' ', s)));
                if (List(parse, audience) is { Count: > 0 } a) request.Add(new("audience", string.Join(' ', a)));
                var (authStatus, authorization) = await api.TryTokenAsync(authorizeAt, request, null, ct);
                if (authStatus != 200 || authorization is not JsonObject device || Str(device, "device_code").Length == 0)
                    throw new InvalidOperationException($"Failed to perform the device authorization request: {Api.Describe(authStatus, authorization)}");
                Console.Error.WriteLine($"To login please go to:\n\t {NonEmpty(Str(device, "verification_uri_complete")) ?? Str(device, "verification_uri")}");
                if (Str(device, "verification_uri_complete").Length == 0) Console.Error.WriteLine($"and enter the code {Str(device, "user_code")}");
                var interval = TimeSpan.FromSeconds(device["interval"] is JsonValue iv && iv.TryGetValue<int>(out var i) && i > 0 ? i : 5);
                var expiresAt = DateTime.UtcNow.AddSeconds(device["expires_in"] is JsonValue ev && ev.TryGetValue<int>(out var e) && e > 0 ? e : 600);
                var poll = new List<KeyValuePair<string, string>> { new("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), new("device_code", Str(device, "device_code")) };
                poll.AddRange(client);
                while (true)
                {
                    await Task.Delay(interval, ct);
                    if (DateTime.UtcNow > expiresAt) throw new InvalidOperationException("Failed to perform the device token request: the device code expired before the user signed in");
                    var issuedAt = DateTime.UtcNow;
                    var (status, answer) = await api.TryTokenAsync(tokenAt, poll, null, ct);
                    if (status == 200 && answer is JsonObject token)
                    {
                        Console.Error.WriteLine("Successfully signed in!");
                        PrintToken(parse, token, issuedAt);
                        return 0;
                    }
                    // RFC 8628 3.5: keep polling while pending; slow down by five seconds when told to.
                    var error = Str(answer as JsonObject ?? [], "error");
                    if (error == "authorization_pending") continue;
                    if (error == "slow_down")
                    {
                        interval += TimeSpan.FromSeconds(5);
                        continue;
                    }
                    throw new InvalidOperationException($"Failed to perform the device token request: {Api.Describe(status, answer)}");
                }
            }
            finally
            {
                if (page is not null)
                {
                    await page.StopAsync(CancellationToken.None);
                    await page.DisposeAsync();
                }
            }
        }));
        return command;
    }

    /// <summary>
    /// Hydra's device debug server: <c>/device</c> shows the user-code form (the provider sends the browser here with
    /// <c>device_challenge</c> and, from a complete verification URI, <c>user_code</c>), its POST accepts the code through
    /// the admin API and follows the provider on; <c>/device/done</c> says the device may go on.
    /// </summary>
    private static WebApplication UserCodePage(Api api, int port)
    {
        var app = LocalServer(port, null);
        app.MapGet("/device", (HttpContext http) =>
        {
            var challenge = http.Request.Query["device_challenge"].ToString();
            if (challenge.Length == 0) return ErrorPage("device_challenge is missing", "The provider sends the browser here with a device_challenge.", 400);
            return Page("Device authorization",
                "<form method=\"post\" action=\"/device\">" +
                $"<input type=\"hidden\" name=\"device_challenge\" value=\"{Html(challenge)}\">" +
                $"<p><label>The code your device shows <input type=\"text\" name=\"user_code\" value=\"{Html(http.Request.Query["user_code"])}\" required></label></p>" +
                "<button type=\"submit\">Continue</button></form>");
        });
        app.MapPost("/device", async (HttpContext http) =>
        {
            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            var (code, challenge) = (form["user_code"].ToString().Trim(), form["device_challenge"].ToString());
            if (code.Length == 0) return ErrorPage("user_code is missing", "Type the code your device shows.", 400);
            if (challenge.Length == 0) return ErrorPage("device_challenge is missing", "Submit the form this server shows.", 400);
            try
            {
                var answer = await api.SendAsync(HttpMethod.Put, "admin/oauth2/auth/requests/device/accept?device_challenge=" + Uri.EscapeDataString(challenge),
                    Json(new JsonObject { ["user_code"] = code }), http.RequestAborted);
                var next = Str(answer as JsonObject ?? [], "redirect_to");
                return next.Length == 0 ? ErrorPage("The admin API answered without redirect_to", answer.ToJsonString(), 502) : Results.Redirect(next);
            }
            catch (InvalidOperationException e)
            {
                return ErrorPage("The admin API refused", e.Message, 502);
            }
        });
        app.MapGet("/device/done", () => Page("Device authorized", "<p>You can close this window and go back to your device.</p>"));
        return app;
    }
}
