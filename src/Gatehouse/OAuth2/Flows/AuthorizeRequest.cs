using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Clients;
using Gatehouse.OAuth2.Protocol;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.OAuth2.Flows;

/// <summary>
/// A validated authorization request (<c>/oauth2/auth</c>), stored with its flow so that the code exchange, the ID token
/// and the redirects use what was validated, never what a later request says.
/// </summary>
public sealed record AuthorizeRequest
{
    public string ClientId { get; init; } = "";
    public string RedirectUri { get; init; } = "";

    /// <summary>Whether the request named <c>redirect_uri</c> (then the token request must repeat it, RFC 6749 4.1.3).</summary>
    public bool RedirectUriGiven { get; init; }
    public string[] Scope { get; init; } = [];

    /// <summary>The <c>response_type</c> values as requested (fosite's <c>ResponseTypes</c>); flows stored before they were kept are <c>code</c>.</summary>
    public string[] ResponseTypes { get; init; } = ["code"];

    /// <summary>
    /// How the answer reaches the client: the <c>response_mode</c> asked for, else the response type's default (fosite's
    /// <c>SetDefaultResponseMode</c>: <c>query</c> for <c>code</c>, <c>fragment</c> for the others).
    /// </summary>
    public string ResponseMode { get; init; } = AuthorizeResponseWriter.Query;
    public string[] Audience { get; init; } = [];
    public string State { get; init; } = "";
    public string Nonce { get; init; } = "";
    public string CodeChallenge { get; init; } = "";
    public string CodeChallengeMethod { get; init; } = "";
    public string[] Prompt { get; init; } = [];
    public long? MaxAge { get; init; }
    public string[] AcrValues { get; init; } = [];
    public string[] UiLocales { get; init; } = [];
    public string Display { get; init; } = "";
    public string LoginHint { get; init; } = "";

    /// <summary>The <c>identity_schema</c> parameter, passed on to the login (registration) app as Hydra does.</summary>
    public string IdentitySchema { get; init; } = "";

    /// <summary>The <c>id_token_hint</c> as sent (it is also in <see cref="RequestUrl"/>, as in Hydra's stored request).</summary>
    public string IdTokenHint { get; init; } = "";

    /// <summary>The hint's claims once read at the start of the flow (<c>oidc_context.id_token_hint_claims</c>).</summary>
    public JsonObject? IdTokenHintClaims { get; init; }

    /// <summary>The request as the browser sent it (Hydra's <c>request_url</c>).</summary>
    public string RequestUrl { get; init; } = "";

    /// <summary>
    /// Set for the login and consent of a device authorization (RFC 8628): the flow belongs to
    /// <c>/oauth2/device/verify</c>, not <c>/oauth2/auth</c>, and ends at the device request instead of a redirect URI.
    /// </summary>
    public Guid? DeviceRequestId { get; init; }

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public string Serialize() => JsonSerializer.Serialize(this, Json);

    public static AuthorizeRequest Load(string json) => JsonSerializer.Deserialize<AuthorizeRequest>(json, Json)!;

    /// <summary>Where this request's errors go: its redirect URI, with its state, in its response mode.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public AuthorizeError.Target ErrorTarget => new(RedirectUri, State, ResponseMode);

    /// <summary>Hydra's <c>oidc_context</c> of the login and consent requests.</summary>
    public JsonObject OidcContext()
    {
        var o = new JsonObject();
        if (AcrValues.Length > 0) o["acr_values"] = new JsonArray([.. AcrValues.Select(v => (JsonNode)v)]);
        if (UiLocales.Length > 0) o["ui_locales"] = new JsonArray([.. UiLocales.Select(v => (JsonNode)v)]);
        if (Display.Length > 0) o["display"] = Display;
        if (IdTokenHintClaims is not null) o["id_token_hint_claims"] = IdTokenHintClaims.DeepClone();
        if (LoginHint.Length > 0) o["login_hint"] = LoginHint;
        return o;
    }

    /// <summary>
    /// fosite's <c>IsRedirectURISecure</c>: anything but plain http is secure (https, and an app's custom scheme); http only
    /// for <c>localhost</c>, a <c>*.localhost</c> host or a loopback address (<c>IsLocalhost</c>).
    /// </summary>
    public static bool IsRedirectUriSecure(string redirectUri)
    {
        if (!Uri.TryCreate(redirectUri, UriKind.Absolute, out var uri) || !string.Equals(uri.Scheme, "http", StringComparison.OrdinalIgnoreCase)) return true;
        var host = uri.IdnHost.Trim('[', ']');
        return host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase) || host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip));
    }

    /// <summary>The minimum length of <c>state</c> and <c>nonce</c> (fosite's <c>MinParameterEntropy</c>).</summary>
    public const int MinParameterEntropy = 8;

    /// <summary>
    /// Validates an authorization request as fosite's <c>NewAuthorizeRequest</c> and Hydra's handlers do, in their order:
    /// the client and the redirect URI first — their errors cannot be sent to the client and are
    /// <see cref="AuthorizeError.Untrusted"/> — then everything else, whose errors go back to the redirect URI.
    /// </summary>
    public static async Task<AuthorizeRequest> ValidateAsync(Func<string, StringValues> param, string requestUrl, OAuth2ClientService clients, OAuth2Settings settings, CancellationToken ct)
    {
        // fosite reads parameters with Go's Form.Get: the first value; a repeated parameter is not an error.
        string Single(string name)
        {
            var v = param(name);
            return v.Count > 0 ? v[0] ?? "" : "";
        }

        var clientId = Single("client_id");
        if (clientId.Length == 0) throw new AuthorizeError(ClientAuthenticator.InvalidClient("The requested OAuth 2.0 Client does not exist."), null);
        var client = await clients.FindAsync(clientId, ct) ?? throw new AuthorizeError(ClientAuthenticator.InvalidClient("The requested OAuth 2.0 Client does not exist."), null);
        var doc = client.Document;

        // fosite's ParseResponseMode runs before the redirect URI is validated: its error is not sent to the client.
        var requestedMode = Single("response_mode");
        if (requestedMode is not ("" or AuthorizeResponseWriter.Query or AuthorizeResponseWriter.Fragment or AuthorizeResponseWriter.FormPost))
            throw AuthorizeError.Untrusted(OAuth2Error.UnsupportedResponseMode($"Request with unsupported response_mode \"{requestedMode}\"."));

        var scope = ScopeStrategy.Split(Single("scope")).Distinct(StringComparer.Ordinal).ToArray();
        var rawRedirect = Single("redirect_uri");
        // validateAuthorizeRedirectURI: OpenID Connect requests name their redirect URI (fosite's Arguments.Has ignores case).
        if (rawRedirect.Length == 0 && scope.Contains("openid", StringComparer.OrdinalIgnoreCase))
            throw AuthorizeError.Untrusted(OAuth2Error.InvalidRequest("The 'redirect_uri' parameter is required when using OpenID Connect 1.0."));
        var redirect = MatchRedirectUri(rawRedirect, doc.RedirectUris)
            ?? throw new AuthorizeError(OAuth2Error.InvalidRequest("The 'redirect_uri' parameter does not match any of the OAuth 2.0 Client's pre-registered redirect urls."), null);
        if (!Uri.TryCreate(redirect, UriKind.Absolute, out _) || redirect.Contains('#', StringComparison.Ordinal))
            throw new AuthorizeError(OAuth2Error.InvalidRequest("The 'redirect_uri' parameter is not a valid redirect URI."), null);

        // From here on the client is known and the redirect URI is registered: errors go there, with the state, in the
        // response mode asked for — until the response type is known, a default one is the query (fosite's
        // WriteAuthorizeError for ResponseModeDefault).
        var state = Single("state");
        var mode = requestedMode.Length > 0 ? requestedMode : AuthorizeResponseWriter.Query;
        AuthorizeError Fail(OAuth2Error e) => new(e, new AuthorizeError.Target(redirect, state, mode));

        if (param("request").Count > 0 && param("request").ToString().Length > 0) throw Fail(OAuth2Error.RequestNotSupported());
        if (param("request_uri").Count > 0 && param("request_uri").ToString().Length > 0) throw Fail(OAuth2Error.RequestUriNotSupported());

        var allowed = ScopeStrategy.Split(doc.Scope);
        foreach (var s in scope)
        {
            if (!settings.AllowsScope(allowed, s)) throw Fail(OAuth2Error.InvalidScope($"The OAuth 2.0 Client is not allowed to request scope '{s}'."));
        }
        var audience = param("audience").SelectMany(a => ScopeStrategy.Split(a)).Distinct(StringComparer.Ordinal).ToArray();
        foreach (var a in audience)
        {
            if (!doc.Audience.Contains(a)) throw Fail(OAuth2Error.InvalidRequest($"Requested audience '{a}' has not been whitelisted by the OAuth 2.0 Client."));
        }
        // fosite's newAuthorizeRequest: the registration parameter (OpenID Connect Core 7.2.1) after the audience, before the
        // response type.
        if (Single("registration").Length > 0) throw Fail(OAuth2Error.RegistrationNotSupported());

        // validateResponseTypes: space-separated, in any order, as one of the client's response_types.
        var rawResponseType = Single("response_type");
        var responseTypes = rawResponseType.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        // (fosite's hint starts with a stray backtick.)
        if (responseTypes.Length == 0) throw Fail(OAuth2Error.UnsupportedResponseType("`The request is missing the 'response_type' parameter."));
        if (!doc.ResponseTypes.Any(t => ResponseTypeSet.Matches(responseTypes, t.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))))
            throw Fail(OAuth2Error.UnsupportedResponseType($"The client is not allowed to request response_type '{rawResponseType}'."));
        // The default response mode: query for code, fragment for every response type that carries tokens.
        if (requestedMode.Length == 0) mode = ResponseTypeSet.ExactOne(responseTypes, "code") ? AuthorizeResponseWriter.Query : AuthorizeResponseWriter.Fragment;

        if (state.Length < MinParameterEntropy) throw Fail(OAuth2Error.InvalidState());
        var nonce = Single("nonce");
        if (nonce.Length > 0 && nonce.Length < MinParameterEntropy)
            throw Fail(OAuth2Error.InsufficientEntropy($"Parameter 'nonce' is set but does not satisfy the minimum entropy of {MinParameterEntropy} characters."));

        var prompt = ScopeStrategy.Split(Single("prompt"));
        foreach (var p in prompt)
        {
            // Hydra's allowed prompts include registration (fositex/config.go GetAllowedPrompts).
            if (p is not ("none" or "login" or "consent" or "select_account" or "registration"))
                throw Fail(OAuth2Error.InvalidRequest($"Used unknown value '{string.Join(' ', prompt)}' for prompt parameter"));
        }
        if (prompt.Contains("none") && prompt.Length > 1)
            throw Fail(OAuth2Error.InvalidRequest("Parameter 'prompt' was set to 'none', but contains other values as well which is not allowed."));

        long? maxAge = null;
        var rawMaxAge = Single("max_age");
        if (rawMaxAge.Length > 0)
        {
            if (!long.TryParse(rawMaxAge, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var m))
                throw Fail(OAuth2Error.InvalidRequest("Parameter 'max_age' must be a non-negative integer."));
            maxAge = m;
        }

        // The checks of fosite's authorize handlers (handler/oauth2/flow_authorize_implicit.go, handler/openid/flow_hybrid.go,
        // flow_implicit.go), which Hydra runs after the consent (NewAuthorizeResponse), are made here, at the request: a
        // request that cannot be answered fails before anyone logs in, and nothing is stored. Whether the OpenID Connect
        // handlers take the request depends on the granted scope; here the requested one stands for it, and the answer
        // checks again with what was granted (LoginConsentService.HandleConsentVerifierAsync).
        var openid = scope.Contains("openid", StringComparer.OrdinalIgnoreCase);
        bool ClientMay(string grant) => doc.GrantTypes.Contains(grant, StringComparer.OrdinalIgnoreCase);
        var implicitRefused = OAuth2Error.InvalidGrant("The OAuth 2.0 Client is not allowed to use the authorization grant 'implicit'.");
        if (ResponseTypeSet.ExactOne(responseTypes, "token") && !ClientMay("implicit")) throw Fail(implicitRefused);
        if (ResponseTypeSet.IsHybrid(responseTypes))
        {
            if (nonce.Length == 0 && ResponseTypeSet.Has(responseTypes, "id_token"))
                throw Fail(OAuth2Error.InvalidRequest("Parameter 'nonce' must be set when requesting an ID Token using the OpenID Connect Hybrid Flow."));
            if (rawRedirect.Length == 0) throw Fail(OAuth2Error.InvalidRequest("The 'redirect_uri' parameter is required when using OpenID Connect 1.0."));
            if (!ClientMay("authorization_code"))
                throw Fail(OAuth2Error.InvalidGrant("The OAuth 2.0 Client is not allowed to use authorization grant 'authorization_code'."));
            if (ResponseTypeSet.Has(responseTypes, "token") && !ClientMay("implicit")) throw Fail(implicitRefused);
        }
        else if (ResponseTypeSet.IsOpenIdImplicit(responseTypes, openid))
        {
            if (!ClientMay("implicit")) throw Fail(implicitRefused);
            if (nonce.Length == 0) throw Fail(OAuth2Error.InvalidRequest("Parameter 'nonce' must be set when using the OpenID Connect Implicit Flow."));
        }
        if (!ResponseTypeSet.HandledAll(responseTypes, openid)) throw Fail(OAuth2Error.UnsupportedResponseType());
        // NewAuthorizeResponse: tokens in the front channel are never put in the query (Go prints the types as a list).
        if (requestedMode == AuthorizeResponseWriter.Query && !ResponseTypeSet.ExactOne(responseTypes, "code"))
            throw Fail(OAuth2Error.UnsupportedResponseMode($"Insecure response_mode 'query' for the response_type '[{string.Join(' ', responseTypes)}]'."));

        // fosite's code handler (handler/oauth2/flow_authorize_code_auth.go, the code flow alone) with Hydra's redirect checker
        // (x.IsRedirectURISecure): a plain-http redirect URI is refused unless its host is localhost, *.localhost or a
        // loopback address — except in development mode (serve --dev), as Hydra's dev mode allows it.
        if (ResponseTypeSet.ExactOne(responseTypes, "code") && !settings.Dev && !IsRedirectUriSecure(redirect))
            throw Fail(OAuth2Error.InvalidRequest("Redirect URL is using an insecure protocol, http is only allowed for hosts with suffix 'localhost', for example: http://myapp.localhost/."));
        // fosite's OpenIDConnectRequestValidator.ValidatePrompt: no silent authorization for a public client whose redirect
        // URI could be anyone's.
        if (openid && doc.IsPublic && prompt.Contains("none") && !settings.Dev && !IsRedirectUriSecure(redirect))
            throw Fail(OAuth2Error.ConsentRequired("OAuth 2.0 Client is marked public and redirect uri is not considered secure (https missing), but \"prompt=none\" was requested."));

        // PKCE (handler/pkce/handler.go) applies to every response type with a code.
        var withCode = ResponseTypeSet.Has(responseTypes, "code");
        var challenge = withCode ? Single("code_challenge") : "";
        var method = withCode ? Single("code_challenge_method") : "";
        if (withCode && challenge.Length == 0)
        {
            if (settings.PkceEnforced || (doc.IsPublic && settings.PkceEnforcedForPublicClients))
                throw Fail(OAuth2Error.InvalidRequest("Clients must include a code_challenge when performing the authorize code flow, but it is missing."));
            if (method.Length > 0) throw Fail(OAuth2Error.InvalidRequest("Parameter 'code_challenge_method' is set but 'code_challenge' is missing."));
        }
        else if (withCode)
        {
            // fosite: plain is disabled in Hydra (GetEnablePKCEPlainChallengeMethod is false), and S256 is not the default.
            if (method != "S256")
                throw Fail(OAuth2Error.InvalidRequest(method is "" or "plain"
                    ? "Clients must use code_challenge_method=S256, plain is not allowed."
                    : $"The code_challenge_method '{method}' is not supported, use S256."));
            if (challenge.Length is < 43 or > 128 || !challenge.All(IsUnreserved))
                throw Fail(OAuth2Error.InvalidRequest("The PKCE code challenge must be 43 to 128 characters of [A-Z] / [a-z] / [0-9] / '-' / '.' / '_' / '~'."));
        }

        return new AuthorizeRequest
        {
            ClientId = client.ClientId,
            RedirectUri = redirect,
            RedirectUriGiven = rawRedirect.Length > 0,
            Scope = scope,
            ResponseTypes = responseTypes,
            ResponseMode = mode,
            Audience = audience,
            State = state,
            Nonce = nonce,
            CodeChallenge = challenge,
            CodeChallengeMethod = method,
            Prompt = prompt,
            MaxAge = maxAge,
            AcrValues = ScopeStrategy.Split(Single("acr_values")),
            UiLocales = ScopeStrategy.Split(Single("ui_locales")),
            Display = Single("display"),
            LoginHint = Single("login_hint"),
            IdentitySchema = Single("identity_schema"),
            IdTokenHint = Single("id_token_hint"),
            RequestUrl = requestUrl,
        };
    }

    internal static bool IsUnreserved(char c) => c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '.' or '_' or '~';

    /// <summary>
    /// fosite's <c>MatchRedirectURIWithClientRedirectURIs</c>: without <c>redirect_uri</c> the client's only registered URI;
    /// else an exact match, or for loopback addresses (<c>http://127.0.0.1</c>, <c>http://[::1]</c>) a match on all but the
    /// port (RFC 8252 7.3). Null when nothing matches.
    /// </summary>
    public static string? MatchRedirectUri(string requested, IReadOnlyList<string> registered)
    {
        if (requested.Length == 0) return registered.Count == 1 ? registered[0] : null;
        if (registered.Contains(requested)) return requested;
        if (!Uri.TryCreate(requested, UriKind.Absolute, out var r) || r.Scheme != "http" || !(r.Host is "127.0.0.1" or "[::1]")) return null;
        foreach (var candidate in registered)
        {
            if (Uri.TryCreate(candidate, UriKind.Absolute, out var c) && c.Scheme == "http" && c.Host == r.Host
                && c.AbsolutePath == r.AbsolutePath && c.Query == r.Query && c.UserInfo.Length == 0 && r.UserInfo.Length == 0)
                return requested;
        }
        return null;
    }
}

/// <summary>
/// An authorization error and where it goes: to the client's redirect URI (<see cref="Target"/>) once the client and its
/// redirect URI are validated, else to <c>urls.error</c> or its fallback page (Hydra's <c>writeAuthorizeError</c>).
/// </summary>
public sealed class AuthorizeError(OAuth2Error error, AuthorizeError.Target? to) : Exception(error.Error)
{
    /// <param name="ResponseMode">How the error is delivered (<see cref="AuthorizeResponseWriter"/>).</param>
    public sealed record Target(string RedirectUri, string State, string ResponseMode = AuthorizeResponseWriter.Query)
    {
        /// <summary>fosite's error values: <c>error</c>, <c>error_description</c> (with the hint), <c>state</c>.</summary>
        public AuthorizeResponse Response(OAuth2Error error, bool exposeDebug = false) => new(RedirectUri, ResponseMode,
            [new("error", error.Error), new("error_description", error.Describe(exposeDebug)), new("state", State)]);
    }

    public OAuth2Error Error { get; } = error;

    public Target? To { get; } = to;

    public static AuthorizeError Untrusted(OAuth2Error error) => new(error, null);
}
