using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;
using static Gatehouse.Tests.SelfService.Oidc.OidcPresetTests;

namespace Gatehouse.Tests.SelfService.Oidc;

/// <summary>
/// The <c>dingtalk</c>, <c>jackson</c> and <c>x</c> presets against <see cref="PresetHosts"/> (a real loopback server answering
/// at the providers' own URLs, checking what Kratos sends on the wire): sign-up, sign-in again, and the provider's refusals,
/// a bad state and tampered tokens, which leave nothing written.
/// </summary>
public sealed class OidcDingTalkJacksonXTests
{
    /// <summary>Starts a browser login and clicks the provider: the browser and where it is sent.</summary>
    private static async Task<(Browser Browser, Uri Upstream, IReadOnlyDictionary<string, string> Query)> ClickLogin(TestServer s, string provider)
    {
        var browser = new Browser(s.PublicUrl);
        var init = await browser.Client.GetAsync("/self-service/login/browser");
        var id = QueryHelpers.ParseQuery(init.Headers.Location!.Query)["flow"].ToString();
        using var fetch = new HttpRequestMessage(HttpMethod.Get, $"/self-service/login/flows?id={id}");
        fetch.Headers.Accept.ParseAdd("application/json");
        var flow = await (await browser.Client.SendAsync(fetch)).Json(HttpStatusCode.OK);
        var submit = await browser.PostForm($"/self-service/login?flow={id}", [new("csrf_token", Csrf(flow)), new("provider", provider)]);
        Assert.Equal(HttpStatusCode.SeeOther, submit.StatusCode);
        var upstream = submit.Headers.Location!;
        return (browser, upstream, QueryHelpers.ParseQuery(upstream.Query).ToDictionary(k => k.Key, v => v.Value.ToString()));
    }

    private static async Task<JsonArray> Identities(TestServer s) => (await (await s.AdminWithKey.GetAsync("/admin/identities")).Json(HttpStatusCode.OK)).AsArray();

    /// <summary>A callback with a state that does not decrypt: Kratos's 400, nothing written.</summary>
    private static async Task AssertBadStateRefused(TestServer s, string path, int identities)
    {
        using var browser = new Browser(s.PublicUrl, acceptJson: true);
        var res = await browser.Client.GetAsync(path + "?state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&code=x&authCode=x&oauth_token=t&oauth_verifier=v");
        Assert.Equal("Unable to complete OpenID Connect flow because the state parameter is invalid.", (string?)(await res.Error(HttpStatusCode.BadRequest))["reason"]);
        Assert.Equal(identities, (await Identities(s)).Count);
    }

    // DingTalk

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Dingtalk_exchanges_the_auth_code_as_json_and_reads_the_user_with_its_header(string db)
    {
        await using var hosts = await PresetHosts.StartAsync();
        await using var s = await Server(db, hosts, null, Provider("dingtalk", "dingtalk", p => { p.Scope = ["openid"]; p.Pkce = "force"; }));
        const string TokenUrl = "POST https://api.dingtalk.com/v1.0/oauth2/userAccessToken";
        const string UserUrl = "GET https://api.dingtalk.com/v1.0/contact/users/me";
        hosts.On(TokenUrl, c => JsonNode.Parse(c.Body)?["code"]?.GetValue<string>() is { } code && code.StartsWith("dt-code", StringComparison.Ordinal)
            ? Results.Json(new { accessToken = "dt-at-" + code[8..], refreshToken = "dt-rt", expireIn = 7200, corpId = "ding123" })
            : Results.Json(new { code = "invalidCode", message = "不合法的临时授权码" }, statusCode: 400));
        hosts.On(UserUrl, c => c.Headers.GetValueOrDefault("x-acs-dingtalk-access-token") is { } at && at.StartsWith("dt-at", StringComparison.Ordinal)
            ? Results.Json(new { nick = "钉钉用户", openId = "dt-open-1", unionId = "dt-union-1", avatarUrl = "https://static.dingtalk.test/a.png", email = "ding@dingtalk.test", mobile = "13800000000" })
            : Results.Json(new { code = "InvalidAuthentication", message = "不合法的access_token" }, statusCode: 401));

        var (browser, upstream, q) = await Click(s, "dingtalk");
        using var _ = browser;
        Assert.Equal("https://login.dingtalk.com/oauth2/auth", upstream.GetLeftPart(UriPartial.Path));
        Assert.Equal(("dingtalk-client", "code", "openid", "consent", RedirectUri(s, "dingtalk")), (q["client_id"], q["response_type"], q["scope"], q["prompt"], q["redirect_uri"]));
        Assert.False(q.ContainsKey("nonce"), "DingTalk speaks plain OAuth2");
        // DingTalk sends the code back as authCode.
        var (identity, claims) = await SignedUp(s, browser, await browser.Client.GetAsync($"/self-service/methods/oidc/callback/dingtalk?state={Uri.EscapeDataString(q["state"])}&authCode=dt-code-1"));

        var token = Assert.Single(hosts.To(TokenUrl));
        Assert.Equal("application/json; charset=UTF-8", token.Headers["content-type"].Replace(";charset", "; charset", StringComparison.Ordinal));
        Assert.Equal(JsonNode.Parse("""{"clientId":"dingtalk-client","clientSecret":"dingtalk-secret","code":"dt-code-1","grantType":"authorization_code"}"""), JsonNode.Parse(token.Body), JsonNode.DeepEquals);
        Assert.Equal("", token.Authorization);
        var user = Assert.Single(hosts.To(UserUrl));
        Assert.Equal(("dt-at-1", ""), (user.Headers["x-acs-dingtalk-access-token"], user.Authorization));
        Assert.Equal(JsonNode.Parse("""
            {"iss":"https://api.dingtalk.com/v1.0/contact/users/me","sub":"dt-open-1","nickname":"钉钉用户","name":"钉钉用户","picture":"https://static.dingtalk.test/a.png","email":"ding@dingtalk.test"}
            """), Without(claims, "raw_claims"), JsonNode.DeepEquals);
        // As for every plain OAuth2 preset, raw_claims holds the same claims (Kratos sends none).
        Assert.Equal(Without(claims, "raw_claims"), claims["raw_claims"], JsonNode.DeepEquals);
        var oidc = identity["credentials"]!["oidc"]!;
        Assert.Equal("dingtalk:dt-open-1", (string?)oidc["identifiers"]![0]);
        // Only the access token is kept (as Kratos's oauth2.Token of DingTalk's answer), decrypted for the admin API.
        var provider = oidc["config"]!["providers"]![0]!;
        Assert.Equal(("dt-at-1", "", ""), ((string?)provider["initial_access_token"], (string?)provider["initial_refresh_token"], (string?)provider["initial_id_token"]));

        // Signing in again through a login flow finds the same identity.
        var (again, _, lq) = await ClickLogin(s, "dingtalk");
        using var __ = again;
        var (signedIn, _) = await SignedUp(s, again, await again.Client.GetAsync($"/self-service/methods/oidc/callback/dingtalk?state={Uri.EscapeDataString(lq["state"])}&authCode=dt-code-2"));
        Assert.Equal((string?)identity["id"], (string?)signedIn["id"]);
        Assert.Single(await Identities(s));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Dingtalk_refusals_and_a_bad_state_write_nothing(string db)
    {
        await using var hosts = await PresetHosts.StartAsync();
        await using var s = await Server(db, hosts, null, Provider("dingtalk", "dingtalk", p => p.Scope = ["openid"]));
        const string TokenUrl = "POST https://api.dingtalk.com/v1.0/oauth2/userAccessToken";

        async Task<string> Fails(string query)
        {
            var (browser, _, q) = await Click(s, "dingtalk");
            using var _ = browser;
            var back = await browser.Client.GetAsync($"/self-service/methods/oidc/callback/dingtalk?state={Uri.EscapeDataString(q["state"])}&{query}");
            Assert.Equal(HttpStatusCode.SeeOther, back.StatusCode);
            return await FlowMessage(browser, back);
        }

        // The provider says no (HTTP error, or 200 with a non-zero code).
        hosts.On(TokenUrl, _ => Results.Json(new { code = "invalidCode", message = "invalid auth code" }, statusCode: 400));
        Assert.Contains("answered 400 at its token endpoint", await Fails("authCode=bad"), StringComparison.Ordinal);
        hosts.On(TokenUrl, _ => Results.Json(new { code = 40078, message = "invalid auth code" }));
        Assert.Contains("DingTalk refused the token request: code 40078", await Fails("authCode=bad"), StringComparison.Ordinal);
        // A token the user API does not take (tampered, expired).
        hosts.On(TokenUrl, _ => Results.Json(new { accessToken = "tampered", expireIn = 7200 }));
        hosts.On("GET https://api.dingtalk.com/v1.0/contact/users/me", _ => Results.Json(new { code = "InvalidAuthentication", message = "invalid access token" }, statusCode: 401));
        Assert.Contains("answered 401 at its user endpoint", await Fails("authCode=ok"), StringComparison.Ordinal);
        // The user refused at DingTalk: no code at all.
        Assert.Contains("returned error \"access_denied\"", await Fails("error=access_denied&error_description=denied"), StringComparison.Ordinal);
        Assert.Contains("did not return the code query parameter", await Fails("nothing=1"), StringComparison.Ordinal);
        await AssertBadStateRefused(s, "/self-service/methods/oidc/callback/dingtalk", 0);
        await AssertNothingWritten(s);
    }

    // SAML Jackson

    private const string Jackson = "https://jackson.example.com";

    /// <summary>SAML Jackson's OpenID side: the token endpoint (Jackson reads a Basic client id without decoding it, so an
    /// encoded tenant/product client id only works in the form), the key set, and a discovery document advertising S256.</summary>
    private static void ServeJackson(PresetHosts hosts, Microsoft.IdentityModel.Tokens.RsaSecurityKey key, Func<PresetHosts.Call, string?> idToken)
    {
        hosts.On($"GET {Jackson}/.well-known/openid-configuration", _ => Results.Json(new
        {
            issuer = Jackson, authorization_endpoint = Jackson + "/api/oauth/authorize", token_endpoint = Jackson + "/api/oauth/token",
            jwks_uri = Jackson + "/oauth/jwks", code_challenge_methods_supported = new[] { "plain", "S256" },
        }));
        hosts.On($"GET {Jackson}/oauth/jwks", _ => Keys(key));
        hosts.On($"POST {Jackson}/api/oauth/token", c =>
        {
            if (!c.Form.TryGetValue("client_id", out var id)) return Results.Json(new { error = "Invalid client_id or client_secret" }, statusCode: 401);
            if (id != "tenant=acme.test&product=gatehouse" || c.Form.GetValueOrDefault("client_secret") != "jackson-secret") return Results.Json(new { error = "Invalid client_id or client_secret" }, statusCode: 401);
            return idToken(c) is { } token
                ? Results.Json(new { access_token = "jk-at", token_type = "bearer", expires_in = 300, id_token = token })
                : Results.Json(new { error = "Invalid code" }, statusCode: 403);
        });
    }

    private static IResult Keys(Microsoft.IdentityModel.Tokens.RsaSecurityKey key)
    {
        var jwk = Microsoft.IdentityModel.Tokens.JsonWebKeyConverter.ConvertFromRSASecurityKey(new Microsoft.IdentityModel.Tokens.RsaSecurityKey(key.Rsa.ExportParameters(false)) { KeyId = key.KeyId });
        return Results.Text(new JsonObject { ["keys"] = new JsonArray(new JsonObject { ["kty"] = "RSA", ["kid"] = jwk.Kid, ["use"] = "sig", ["alg"] = "RS256", ["n"] = jwk.N, ["e"] = jwk.E }) }.ToJsonString(), "application/json");
    }

    private static JsonObject JacksonToken(string nonce, string iss = Jackson, string sub = "ada@acme.test") => new()
    {
        ["iss"] = iss, ["aud"] = "tenant=acme.test&product=gatehouse", ["sub"] = sub, ["nonce"] = nonce, ["email"] = sub, ["firstName"] = "Ada", ["lastName"] = "Lovelace",
        ["roles"] = new JsonArray("admin"), ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ["exp"] = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds(),
    };

    private static Gatehouse.Config.OidcProviderOptions JacksonProvider() => Provider("jackson", "jackson", p =>
    {
        p.ClientId = "tenant=acme.test&product=gatehouse";
        p.ClientSecret = "jackson-secret";
        p.IssuerUrl = Jackson;
        p.AuthUrl = Jackson + "/api/oauth/authorize";
        p.TokenUrl = Jackson + "/api/oauth/token";
        p.Scope = ["openid", "email", "profile"];
    });

    private static string SamlCallback(TestServer s) => s.PublicUrl.TrimEnd('/') + "/self-service/methods/saml/callback/jackson";

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Jackson_signs_up_and_in_through_the_saml_callback_with_pkce_and_a_validated_id_token(string db)
    {
        await using var hosts = await PresetHosts.StartAsync();
        var key = PresetHosts.NewKey();
        var nonces = new Dictionary<string, string>();
        ServeJackson(hosts, key, c => c.Form.GetValueOrDefault("code") is { } code && nonces.TryGetValue(code, out var nonce) ? PresetHosts.Sign(JacksonToken(nonce), key) : null);
        await using var s = await Server(db, hosts, null, JacksonProvider());

        var (browser, upstream, q) = await Click(s, "jackson");
        using var _ = browser;
        Assert.Equal(Jackson + "/api/oauth/authorize", upstream.GetLeftPart(UriPartial.Path));
        Assert.Equal(("tenant=acme.test&product=gatehouse", "openid email profile", SamlCallback(s), "S256"), (q["client_id"], q["scope"], q["redirect_uri"], q["code_challenge_method"]));
        Assert.True(q["nonce"].Length > 20);
        nonces["jk-code-1"] = q["nonce"];
        var (identity, claims) = await SignedUp(s, browser, await browser.Client.GetAsync($"/self-service/methods/saml/callback/jackson?state={Uri.EscapeDataString(q["state"])}&code=jk-code-1"));

        // HTTP Basic first (golang.org/x/oauth2's auto-detection), refused for the encoded client id; then the form.
        var tokens = hosts.To($"POST {Jackson}/api/oauth/token");
        Assert.Equal(2, tokens.Length);
        Assert.StartsWith("Basic ", tokens[0].Authorization, StringComparison.Ordinal);
        Assert.False(tokens[0].Form.ContainsKey("client_id"));
        Assert.Equal(("", "tenant=acme.test&product=gatehouse", SamlCallback(s)), (tokens[1].Authorization, tokens[1].Form["client_id"], tokens[1].Form["redirect_uri"]));
        Assert.Equal(OidcStateChallenge(tokens[1].Form["code_verifier"]), q["code_challenge"]);
        Assert.Equal(("ada@acme.test", Jackson, "ada@acme.test", "Ada"), ((string?)claims["sub"], (string?)claims["iss"], (string?)claims["email"], (string?)claims["raw_claims"]!["firstName"]));
        Assert.Equal("jackson:ada@acme.test", (string?)identity["credentials"]!["oidc"]!["identifiers"]![0]);

        var (again, _, lq) = await ClickLogin(s, "jackson");
        using var __ = again;
        nonces["jk-code-2"] = lq["nonce"];
        var (signedIn, _) = await SignedUp(s, again, await again.Client.GetAsync($"/self-service/methods/saml/callback/jackson?state={Uri.EscapeDataString(lq["state"])}&code=jk-code-2"));
        Assert.Equal((string?)identity["id"], (string?)signedIn["id"]);
        Assert.Single(await Identities(s));
    }

    private static string OidcStateChallenge(string verifier) => Gatehouse.SelfService.Strategies.Oidc.OidcState.Challenge(verifier);

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Jackson_accepts_only_its_issuer_or_the_trusted_ones_and_refuses_tampered_tokens_and_other_callbacks(string db)
    {
        await using var hosts = await PresetHosts.StartAsync();
        var key = PresetHosts.NewKey();
        var forge = PresetHosts.NewKey();
        Func<string, string?> mint = _ => null;
        ServeJackson(hosts, key, c => mint(c.Form.GetValueOrDefault("code") ?? ""));
        await using var s = await Server(db, hosts, null, JacksonProvider(), Provider("plain", "discord", p => p.Scope = ["identify"]));

        var browsers = new List<Browser>();
        async Task<(Browser Browser, HttpResponseMessage Back)> Back(Func<string, string?> token)
        {
            var (browser, _, q) = await Click(s, "jackson");
            browsers.Add(browser);
            mint = _ => token(q["nonce"]);
            return (browser, await browser.Client.GetAsync($"/self-service/methods/saml/callback/jackson?state={Uri.EscapeDataString(q["state"])}&code=c"));
        }
        async Task<string> Message(Func<string, string?> token)
        {
            var (browser, back) = await Back(token);
            return await FlowMessage(browser, back);
        }

        // Another issuer: refused, until SAML_SP_TRUSTED_ISSUERS names it (Kratos's migration switch).
        const string Old = "https://old-jackson.example.com";
        Assert.Contains("issued by another issuer", await Message(n => PresetHosts.Sign(JacksonToken(n, Old), key)), StringComparison.Ordinal);
        var previous = Environment.GetEnvironmentVariable(Gatehouse.SelfService.Strategies.Oidc.Presets.JacksonPreset.TrustedIssuersVariable);
        try
        {
            Environment.SetEnvironmentVariable(Gatehouse.SelfService.Strategies.Oidc.Presets.JacksonPreset.TrustedIssuersVariable, " https://elsewhere.example , " + Old);
            var (browser, back) = await Back(n => PresetHosts.Sign(JacksonToken(n, Old, "moved@acme.test"), key));
            var (_, claims) = await SignedUp(s, browser, back);
            Assert.Equal(Old, (string?)claims["iss"]);
            // A trusted issuer still needs Jackson's keys.
            Assert.Contains("signed with a key the provider does not publish", await Message(n => PresetHosts.Sign(JacksonToken(n, Old, "forged@acme.test"), forge)), StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(Gatehouse.SelfService.Strategies.Oidc.Presets.JacksonPreset.TrustedIssuersVariable, previous);
        }
        Assert.Single(await Identities(s));

        // A tampered token (payload changed after signing), a wrong nonce, Jackson's refusal, the provider's error.
        Assert.Contains("signature does not verify", await Message(n =>
        {
            var parts = PresetHosts.Sign(JacksonToken(n), key).Split('.');
            parts[1] = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(JacksonToken(n, sub: "mallory@acme.test").ToJsonString());
            return string.Join('.', parts);
        }), StringComparison.Ordinal);
        Assert.Contains("nonce does not match", await Message(_ => PresetHosts.Sign(JacksonToken("other-nonce"), key)), StringComparison.Ordinal);
        Assert.Contains("refused the token request: Invalid code", await Message(_ => null), StringComparison.Ordinal);
        var (denied, _, dq) = await Click(s, "jackson");
        using (denied)
        {
            var back = await denied.Client.GetAsync($"/self-service/methods/saml/callback/jackson?state={Uri.EscapeDataString(dq["state"])}&error=access_denied&error_description=SAML+response+rejected");
            Assert.Contains("returned error \"access_denied\": SAML response rejected", await FlowMessage(denied, back), StringComparison.Ordinal);
        }

        // Jackson's state at the oidc callback, or another provider's at the SAML one: refused before anything happens.
        using var json = new Browser(s.PublicUrl, acceptJson: true);
        var (j, _, jq) = await Click(s, "jackson");
        j.Dispose();
        var wrongPath = await json.Client.GetAsync($"/self-service/methods/oidc/callback/jackson?state={Uri.EscapeDataString(jq["state"])}&code=c");
        Assert.Contains("callback is not this URL", (string?)(await wrongPath.Error(HttpStatusCode.BadRequest))["reason"], StringComparison.Ordinal);
        var (d, _, pq) = await Click(s, "plain");
        d.Dispose();
        var samlForOther = await json.Client.GetAsync($"/self-service/methods/saml/callback/plain?state={Uri.EscapeDataString(pq["state"])}&code=c");
        Assert.Contains("callback is not this URL", (string?)(await samlForOther.Error(HttpStatusCode.BadRequest))["reason"], StringComparison.Ordinal);
        await AssertBadStateRefused(s, "/self-service/methods/saml/callback/jackson", 1);
        Assert.Single(await Identities(s));
        foreach (var b in browsers) b.Dispose();
    }

    // X (OAuth 1.0a)

    private const string RequestToken = "POST https://api.twitter.com/oauth/request_token";
    private const string AccessToken = "POST https://api.twitter.com/oauth/access_token";
    private const string VerifyCredentials = "GET https://api.twitter.com/1.1/account/verify_credentials.json";

    /// <summary>
    /// X's side of OAuth 1.0a (RFC 5849), checking each request's HMAC-SHA1 signature as X does: the request token (for the
    /// callback given), the access token for the verifier X handed out, and the account, signed with that access token.
    /// </summary>
    private sealed class XServer
    {
        private readonly Dictionary<string, string> _requestTokens = [];   // request token -> callback
        private readonly Dictionary<string, string> _verifiers = [];       // request token -> verifier
        public string Email { get; set; } = "jack@x.test";

        public XServer(PresetHosts hosts)
        {
            hosts.On(RequestToken, c =>
            {
                if (Verify(c, "") is not { } p || !p.TryGetValue("oauth_callback", out var callback)) return Results.Text("Could not authenticate you.", statusCode: 401);
                var token = "rt-" + Guid.NewGuid().ToString("N")[..8];
                _requestTokens[token] = callback;
                return Results.Text($"oauth_token={token}&oauth_token_secret=rts-{token}&oauth_callback_confirmed=true", "application/x-www-form-urlencoded");
            });
            hosts.On(AccessToken, c =>
            {
                // Kratos signs the exchange with an empty token secret; X accepts that.
                if (Verify(c, "") is not { } p || !_verifiers.TryGetValue(p.GetValueOrDefault("oauth_token") ?? "", out var verifier) || verifier != p.GetValueOrDefault("oauth_verifier"))
                    return Results.Text("Error processing your OAuth request: Invalid oauth_verifier parameter", statusCode: 401);
                _verifiers.Remove(p["oauth_token"]);
                return Results.Text("oauth_token=783214-at&oauth_token_secret=at-secret&user_id=783214&screen_name=jack", "application/x-www-form-urlencoded");
            });
            hosts.On(VerifyCredentials, c => Verify(c, "at-secret") is { } p && p["oauth_token"] == "783214-at"
                ? Results.Json(new
                {
                    id = 783214, id_str = "783214", name = "Jack", screen_name = "jack", url = "https://jack.test", profile_image_url_https = "https://pbs.twimg.test/jack.jpg",
                    followers_count = 10, email = c.Query.GetValueOrDefault("include_email") == "true" ? Email : null,
                })
                : Results.Json(new { errors = new[] { new { code = 32, message = "Could not authenticate you." } } }, statusCode: 401));
        }

        /// <summary>The user allows the app at X: where X sends the browser back.</summary>
        public string Authorize(Uri authenticate)
        {
            var token = QueryHelpers.ParseQuery(authenticate.Query)["oauth_token"].ToString();
            var verifier = "v-" + Guid.NewGuid().ToString("N")[..8];
            _verifiers[token] = verifier;
            return QueryHelpers.AddQueryString(_requestTokens[token], new Dictionary<string, string?> { ["oauth_token"] = token, ["oauth_verifier"] = verifier });
        }

        /// <summary>The user cancels at X.</summary>
        public string Deny(Uri authenticate) =>
            QueryHelpers.AddQueryString(_requestTokens[QueryHelpers.ParseQuery(authenticate.Query)["oauth_token"].ToString()], "denied", "x");

        /// <summary>The request's oauth parameters when its signature is right for the consumer secret and <paramref name="tokenSecret"/>.</summary>
        private static Dictionary<string, string>? Verify(PresetHosts.Call c, string tokenSecret)
        {
            if (!c.Authorization.StartsWith("OAuth ", StringComparison.Ordinal)) return null;
            var oauth = c.Authorization[6..].Split(", ").Select(part => part.Split('=', 2))
                .ToDictionary(kv => Uri.UnescapeDataString(kv[0]), kv => Uri.UnescapeDataString(kv[1].Trim('"')), StringComparer.Ordinal);
            if (oauth.GetValueOrDefault("oauth_consumer_key") != "x-client" || oauth.GetValueOrDefault("oauth_signature_method") != "HMAC-SHA1"
                || oauth.GetValueOrDefault("oauth_version") != "1.0" || !oauth.TryGetValue("oauth_signature", out var signature)) return null;
            if (Math.Abs(long.Parse(oauth["oauth_timestamp"], System.Globalization.CultureInfo.InvariantCulture) - DateTimeOffset.UtcNow.ToUnixTimeSeconds()) > 300) return null;
            var uri = new Uri(c.Url);
            var pairs = oauth.Where(p => p.Key != "oauth_signature").Select(p => (p.Key, p.Value))
                .Concat(c.Query.Select(p => (p.Key, p.Value))).Concat(c.Form.Select(p => (p.Key, p.Value)))
                .Select(p => (K: Escape(p.Item1), V: Escape(p.Item2))).OrderBy(p => p.K, StringComparer.Ordinal).ThenBy(p => p.V, StringComparer.Ordinal);
            var baseString = $"{c.Method}&{Escape($"https://{uri.Host}{uri.AbsolutePath}")}&{Escape(string.Join("&", pairs.Select(p => p.K + "=" + p.V)))}";
#pragma warning disable CA5350 // X's OAuth 1.0a signatures are HMAC-SHA1.
            var expected = Convert.ToBase64String(HMACSHA1.HashData(Encoding.ASCII.GetBytes("x-secret&" + Escape(tokenSecret)), Encoding.ASCII.GetBytes(baseString)));
#pragma warning restore CA5350
            return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature)) ? oauth : null;
        }

        // RFC 3986 unreserved characters stay; everything else is %XX (RFC 5849 §3.6).
        private static string Escape(string value) =>
            string.Concat(Encoding.UTF8.GetBytes(value).Select(b => b is (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~'
                ? ((char)b).ToString() : "%" + b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task X_signs_up_and_in_with_oauth_1a_and_keeps_no_upstream_token(string db)
    {
        await using var hosts = await PresetHosts.StartAsync();
        var x = new XServer(hosts);
        // pkce: force does not apply to OAuth 1.0a (Kratos never sends it there).
        await using var s = await Server(db, hosts, null, Provider("x", "x", p => { p.Scope = ["email"]; p.Pkce = "force"; }));

        var (browser, upstream, q) = await Click(s, "x");
        using var _ = browser;
        Assert.Equal("https://api.twitter.com/oauth/authenticate", upstream.GetLeftPart(UriPartial.Path));
        Assert.Equal(["oauth_token"], q.Keys);
        var request = Assert.Single(hosts.To(RequestToken));
        var callback = new Uri(x.Authorize(upstream));
        // Kratos's callback: the redirect URI with the state and code=unused, so the usual state check applies on return.
        Assert.Equal(RedirectUri(s, "x"), callback.GetLeftPart(UriPartial.Path));
        var cq = QueryHelpers.ParseQuery(callback.Query);
        Assert.Equal("unused", cq["code"].ToString());
        Assert.False(string.IsNullOrEmpty(cq["state"]));
        Assert.DoesNotContain("oauth_token", request.Authorization, StringComparison.Ordinal);

        var (identity, claims) = await SignedUp(s, browser, await browser.Client.GetAsync(callback.PathAndQuery));
        var exchange = Assert.Single(hosts.To(AccessToken));
        Assert.Contains("oauth_verifier=", exchange.Authorization, StringComparison.Ordinal);
        Assert.Equal("true", Assert.Single(hosts.To(VerifyCredentials)).Query["include_email"]);
        Assert.Equal(JsonNode.Parse("""
            {"iss":"https://api.twitter.com/1.1/account/verify_credentials.json?include_email=true","sub":"783214","name":"Jack","picture":"https://pbs.twimg.test/jack.jpg",
             "email":"jack@x.test","preferred_username":"jack","website":"https://jack.test"}
            """), Without(claims, "raw_claims"), JsonNode.DeepEquals);
        var oidc = identity["credentials"]!["oidc"]!;
        Assert.Equal("x:783214", (string?)oidc["identifiers"]![0]);
        var account = oidc["config"]!["providers"]![0]!;
        Assert.Equal(("", "", ""), ((string?)account["initial_access_token"], (string?)account["initial_refresh_token"], (string?)account["initial_id_token"]));

        var (again, loginUp, _) = await ClickLogin(s, "x");
        using var __ = again;
        var (signedIn, _) = await SignedUp(s, again, await again.Client.GetAsync(new Uri(x.Authorize(loginUp)).PathAndQuery));
        Assert.Equal((string?)identity["id"], (string?)signedIn["id"]);
        Assert.Single(await Identities(s));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task X_refusals_a_denied_request_tampered_verifiers_and_a_bad_state_write_nothing(string db)
    {
        await using var hosts = await PresetHosts.StartAsync();
        var x = new XServer(hosts);
        await using var s = await Server(db, hosts, null, Provider("x", "x", p => p.Scope = ["email"]), Provider("wrong", "x", p => p.ClientSecret = "not-x-secret"));

        // X refuses a request token signed with the wrong consumer secret: shown on the flow, nothing handed out.
        using (var browser = new Browser(s.PublicUrl))
        {
            var init = await browser.Client.GetAsync("/self-service/registration/browser");
            var id = QueryHelpers.ParseQuery(init.Headers.Location!.Query)["flow"].ToString();
            using var fetch = new HttpRequestMessage(HttpMethod.Get, $"/self-service/registration/flows?id={id}");
            fetch.Headers.Accept.ParseAdd("application/json");
            var flow = await (await browser.Client.SendAsync(fetch)).Json(HttpStatusCode.OK);
            var submit = await browser.PostForm($"/self-service/registration?flow={id}", [new("csrf_token", Csrf(flow)), new("provider", "wrong")]);
            Assert.Equal(HttpStatusCode.SeeOther, submit.StatusCode);
            Assert.Contains("Unable to sign in with X because the OAuth1 request token could not be initialized: oauth1: invalid status 401", await FlowMessage(browser, submit), StringComparison.Ordinal);
        }

        async Task<string> Fails(Func<Uri, string> back)
        {
            var (browser, upstream, _) = await Click(s, "x");
            using var _ = browser;
            var res = await browser.Client.GetAsync(new Uri(back(upstream)).PathAndQuery);
            Assert.Equal(HttpStatusCode.SeeOther, res.StatusCode);
            return await FlowMessage(browser, res);
        }

        Assert.Contains("Unable to sign in with X because the user denied the request.", await Fails(x.Deny), StringComparison.Ordinal);
        Assert.Contains("oauth1: invalid status 401", await Fails(u => x.Authorize(u).Replace("oauth_verifier=v-", "oauth_verifier=tampered-", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("oauth1: Request missing oauth_token or oauth_verifier", await Fails(u => x.Authorize(u).Split("&oauth_token=")[0]), StringComparison.Ordinal);
        // The verifier is spent: a replay of the same return is refused (the state was used, too).
        var (replayer, up, _) = await Click(s, "x");
        using (replayer)
        {
            var back = new Uri(x.Authorize(up)).PathAndQuery;
            var first = await replayer.Client.GetAsync(back);
            Assert.Equal("http://app.example.com/welcome", first.Headers.Location?.ToString());
            var replay = await replayer.Client.GetAsync(back);
            Assert.Equal(HttpStatusCode.SeeOther, replay.StatusCode);
            Assert.DoesNotContain("welcome", replay.Headers.Location?.ToString() ?? "", StringComparison.Ordinal);
        }
        Assert.Single(await Identities(s));
        await AssertBadStateRefused(s, "/self-service/methods/oidc/callback/x", 1);
    }
}
