using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Clients;
using Gatehouse.OAuth2.Flows;
using Gatehouse.OAuth2.Keys;
using Gatehouse.OAuth2.Protocol;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.OAuth2.Logout;

/// <summary>
/// Hydra's logout (<c>consent/strategy_default.go</c> <c>issueLogoutVerifier</c>, <c>completeLogout</c>,
/// <c>HandleHeadlessLogout</c>; <c>consent/handler.go</c> for the admin API): <c>/oauth2/sessions/logout</c> starts a logout
/// request — RP-initiated with an <c>id_token_hint</c>, or for the browser's own remembered login — and sends the browser
/// to the logout app with a <c>logout_challenge</c>; the app accepts or rejects it through the admin API; the accept leads
/// back with a <c>logout_verifier</c>, which ends the login session: the clients that took part get back-channel logout
/// tokens and front-channel iframes, and the Kratos session behind the login (<c>identity_provider_session_id</c>) ends too.
/// </summary>
public sealed partial class LogoutService(
    IOAuth2FlowStore flows,
    OAuth2ClientService clients,
    JsonWebKeyManager keys,
    IdTokenHints hints,
    BackChannelLogout backChannel,
    IIdentityProviderSessions identityProvider,
    OAuth2Settings settings,
    TimeProvider time,
    FlowVerifiers verifiers,
    ILogger<LogoutService> logger)
{
    public const string Path = "/oauth2/sessions/logout";

    /// <summary>The event of a logout token (OpenID Connect Back-Channel Logout 1.0, 2.4).</summary>
    public const string BackChannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout";

    private static readonly JsonWebTokenHandler Handler = new();

    /// <summary>
    /// Where the browser goes next: a redirect, or (when clients have front-channel logout URIs) a page loading them in
    /// iframes first. <paramref name="ClearSessionCookie"/>: the browser's <c>ory_hydra_session</c> is to be removed.
    /// </summary>
    public sealed record Outcome(string RedirectTo, IReadOnlyList<string> FrontChannelUrls, bool ClearSessionCookie = false);

    /// <summary>What a logout admin call answers: 200 with the request or <c>{redirect_to}</c>, 410 once handled, 204 for a reject.</summary>
    public sealed record AdminAnswer(int Status, JsonObject? Body);

    // ---- /oauth2/sessions/logout ----

    /// <summary>
    /// A new logout (Hydra's <c>issueLogoutVerifier</c>). Without <c>id_token_hint</c> it is the browser's own logout
    /// (<paramref name="sessionCookie"/>); with one, the client's (RP-initiated), checked as Hydra checks it.
    /// </summary>
    public async Task<Outcome> StartAsync(Func<string, string> param, string requestUrl, string? sessionCookie, CancellationToken ct)
    {
        var redirect = settings.PostLogoutRedirectUrl;
        var hint = param("id_token_hint");
        var state = param("state");
        var requested = param("post_logout_redirect_uri");
        if (hint.Length == 0)
        {
            if (state.Length > 0) throw OAuth2Error.InvalidRequest("Logout failed because query parameter state is set but id_token_hint is missing.");
            if (requested.Length > 0) throw OAuth2Error.InvalidRequest("Logout failed because query parameter post_logout_redirect_uri is set but id_token_hint is missing.");
            // Without a remembered login the browser cannot be identified: nothing to log out, no client to tell.
            if (await RememberedAsync(sessionCookie, ct) is not { } own) return new Outcome(redirect, []);
            return await CreateRequestAsync(requestUrl, own.Subject, own.Id.ToString(), rpInitiated: false, redirect, null, ct);
        }

        var claims = await hints.DecodeAsync(hint, ct);
        var iss = Str(claims, "iss");
        if (iss != settings.Issuer)
            throw OAuth2Error.InvalidRequest($"Logout failed because issuer claim value '{iss}' from query parameter id_token_hint does not match with issuer value from configuration '{settings.Issuer}'.");
        var sid = Str(claims, "sid");
        if (sid.Length == 0) throw OAuth2Error.InvalidRequest("Logout failed because query parameter id_token_hint is missing sid claim.");
        if (Str(claims, "sub").Length == 0) throw OAuth2Error.InvalidRequest("Logout failed because query parameter id_token_hint is missing sub claim.");
        OAuth2ClientService.Loaded? client = null;
        foreach (var audience in Audiences(claims))
        {
            if (audience.Length is > 0 and <= 255 && await clients.FindAsync(audience, ct) is { } found)
            {
                client = found;
                break;
            }
        }
        if (client is null) throw OAuth2Error.InvalidRequest("Logout failed because none of the listed audiences is a registered OAuth 2.0 Client.");
        if (requested.Length > 0)
        {
            if (!client.Document.PostLogoutRedirectUris.Contains(requested, StringComparer.Ordinal))
                throw OAuth2Error.InvalidRequest("Logout failed because query parameter post_logout_redirect_uri is not a whitelisted as a post_logout_redirect_uri for the client.");
            redirect = state.Length > 0 ? LoginConsentService.SetQuery(requested, "state", state) : requested;
        }
        // An unknown (or forgotten, or not remembered) login session: nothing left to end; back to the client (Hydra).
        var session = Guid.TryParse(sid, out var sessionId) ? await flows.FindLoginSessionAsync(sessionId, ct) : null;
        if (session is not { Remember: true }) return new Outcome(redirect, []);
        return await CreateRequestAsync(requestUrl, session.Subject, sid, rpInitiated: true, redirect, client.ClientId, ct);
    }

    /// <summary>
    /// Back from the logout app (Hydra's <c>completeLogout</c>): spends the verifier and ends the login session. A verifier
    /// used before leads to the post-logout URL without doing anything again; so does a browser-initiated logout whose
    /// browser now has another (or no) login, so that nobody else is logged out.
    /// </summary>
    public async Task<Outcome> CompleteAsync(string verifier, string? sessionCookie, CancellationToken ct)
    {
        var (request, spent) = verifier.Length is > 0 and <= 200 ? await flows.SpendLogoutVerifierAsync(Hash(verifier), ct) : (null, false);
        if (request is null || !request.Accepted || request.Rejected) throw OAuth2Error.NotFoundResource();
        if (!spent) return new Outcome(request.PostLogoutRedirectUri, []);
        if (request.ExpiresAt <= Now())
            throw new OAuth2Error(401, "request_unauthorized", "The request could not be authorized. Check that you provided valid credentials in the right format.", "The logout request has expired, please try the flow again.");
        if (!request.RpInitiated)
        {
            var own = await RememberedAsync(sessionCookie, ct);
            if (own is null || own.Subject != request.Subject || own.Id.ToString() != request.SessionId) return new Outcome(request.PostLogoutRedirectUri, []);
        }
        if (!Guid.TryParse(request.SessionId, out var sid)) return new Outcome(request.PostLogoutRedirectUri, []);
        var ended = await EndLoginSessionAsync(request.Subject, sid, ct);
        if (ended is null) return new Outcome(request.PostLogoutRedirectUri, []);
        // Whichever login the browser's cookie names goes too (Hydra's revokeAuthenticationSession).
        if (sessionCookie is { Length: > 0 and < 200 }) await flows.DeleteLoginSessionsAsync(null, null, Hash(sessionCookie), ct);
        LogLogoutCompleted(logger, request.SessionId);
        return new Outcome(request.PostLogoutRedirectUri, ended, ClearSessionCookie: true);
    }

    // ---- revokeOAuth2LoginSessions ----

    /// <summary>
    /// <c>?sid=</c> (Hydra's <c>HandleHeadlessLogout</c>): a remembered login session ends with back-channel logout and its
    /// Kratos session; an unknown one is no error.
    /// </summary>
    public async Task EndSessionAsync(string sid, CancellationToken ct)
    {
        if (!Guid.TryParse(sid, out var id) || await flows.FindLoginSessionAsync(id, ct) is not { Remember: true } session) return;
        if (await EndLoginSessionAsync(session.Subject, id, ct) is not null) LogLogoutCompleted(logger, sid);
    }

    /// <summary>
    /// <c>?subject=</c>: every login session of the subject ends, each with back-channel logout and its Kratos session
    /// (Hydra v26.2 only deletes them; the issue asks for the logout to reach the clients here too).
    /// </summary>
    public async Task EndSubjectAsync(string subject, CancellationToken ct)
    {
        foreach (var session in await flows.DeleteLoginSessionsAsync(null, subject, null, ct))
        {
            await NotifyAsync(session, ct);
        }
    }

    // ---- admin API ----

    public async Task<AdminAnswer> GetRequestAsync(string challenge, CancellationToken ct)
    {
        var request = await FindRequestAsync(challenge, ct);
        if (request is null || request.Rejected) throw OAuth2Error.NotFound();
        if (request.WasUsed) return new AdminAnswer(410, new JsonObject { ["redirect_to"] = request.RequestUrl });
        JsonObject? client = null;
        if (request.ClientId is { } clientId) client = (await clients.FindAsync(clientId, ct) ?? throw OAuth2Error.NotFound()).ToJson();
        var body = new JsonObject { ["challenge"] = challenge, ["subject"] = request.Subject };
        if (request.SessionId.Length > 0) body["sid"] = request.SessionId;
        body["request_url"] = request.RequestUrl;
        body["rp_initiated"] = request.RpInitiated;
        body["expires_at"] = FormatTime(request.ExpiresAt);
        body["requested_at"] = FormatTime(request.RequestedAt);
        body["client"] = client;
        return new AdminAnswer(200, body);
    }

    /// <summary>Hydra's accept: <c>{redirect_to}</c> of <c>/oauth2/sessions/logout?logout_verifier=</c>; accepting a rejected request is allowed (Hydra).</summary>
    public async Task<AdminAnswer> AcceptAsync(string challenge, CancellationToken ct)
    {
        // The same verifier for every accept of this request, as Hydra returns the one it stored.
        var verifier = verifiers.For(FlowVerifiers.Logout, challenge);
        if (!ValidChallenge(challenge) || !await flows.AcceptLogoutRequestAsync(Hash(challenge), Hash(verifier), ct)) throw OAuth2Error.NotFound();
        return new AdminAnswer(200, new JsonObject { ["redirect_to"] = LoginConsentService.WithQuery(settings.Endpoint(Path), "logout_verifier", verifier) });
    }

    public async Task<AdminAnswer> RejectAsync(string challenge, CancellationToken ct)
    {
        if (!ValidChallenge(challenge) || !await flows.RejectLogoutRequestAsync(Hash(challenge), ct)) throw OAuth2Error.NotFoundResource();
        return new AdminAnswer(204, null);
    }

    // ---- helpers ----

    private async Task<Outcome> CreateRequestAsync(string requestUrl, string subject, string sid, bool rpInitiated, string redirect, string? clientId, CancellationToken ct)
    {
        var logoutUrl = settings.EffectiveLogoutUrl
            ?? throw OAuth2Error.ServerError("The logout UI is not configured: set urls.logout, or turn the built-in pages on (ui.enabled).");
        var challenge = NewSecret();
        var now = Now();
        await flows.AddLogoutRequestAsync(new OAuth2LogoutRequest
        {
            Pk = Guid.CreateVersion7(),
            Challenge = Hash(challenge),
            Subject = subject,
            SessionId = sid,
            RequestUrl = requestUrl,
            RpInitiated = rpInitiated,
            PostLogoutRedirectUri = redirect,
            ClientId = clientId,
            RequestedAt = now,
            ExpiresAt = now + settings.LoginConsentRequestLifespan,
        }, ct);
        return new Outcome(LoginConsentService.WithQuery(logoutUrl, "logout_challenge", challenge), []);
    }

    /// <summary>
    /// Ends a login session once: the one caller that deletes it notifies the clients that took part (back-channel now,
    /// front-channel URLs returned) and ends the Kratos session behind it. Null when the session was gone already.
    /// </summary>
    private async Task<IReadOnlyList<string>?> EndLoginSessionAsync(string subject, Guid sid, CancellationToken ct)
    {
        var deleted = await flows.DeleteLoginSessionsAsync(sid, null, null, ct);
        if (deleted.Count == 0) return null;
        var session = deleted[0];
        session.Subject = subject;
        return await NotifyAsync(session, ct);
    }

    /// <summary>Back-channel logout to every client of the session, its Kratos session ended; returns the front-channel URLs.</summary>
    private async Task<IReadOnlyList<string>> NotifyAsync(OAuth2LoginSession session, CancellationToken ct)
    {
        var sid = session.Id.ToString();
        var front = new List<string>();
        var back = new List<(string ClientId, string Url)>();
        foreach (var clientId in await flows.ListClientIdsOfLoginSessionAsync(session.Subject, session.Id, ct))
        {
            if (await clients.FindAsync(clientId, ct) is not { } client) continue;
            if (client.Document.FrontChannelLogoutUri is { Length: > 0 } frontUri && Uri.TryCreate(frontUri, UriKind.Absolute, out _))
                front.Add(LoginConsentService.WithQuery(LoginConsentService.WithQuery(frontUri, "iss", settings.Issuer), "sid", sid));
            if (client.Document.BackChannelLogoutUri is { Length: > 0 } backUri) back.Add((client.ClientId, backUri));
        }
        if (back.Count > 0)
        {
            var signing = await keys.GetSigningKeyAsync(JsonWebKeyManager.IdTokenSet, ct);
            var iat = new DateTimeOffset(Now()).ToUnixTimeSeconds();
            _ = backChannel.Send(back.Select(b => new BackChannelLogout.Delivery(b.ClientId, b.Url, Handler.CreateToken(new JsonObject
            {
                ["iss"] = settings.Issuer,
                ["aud"] = new JsonArray(b.ClientId),
                ["iat"] = iat,
                ["jti"] = Guid.NewGuid().ToString(),
                ["events"] = new JsonObject { [BackChannelLogoutEvent] = new JsonObject() },
                ["sid"] = sid,
            }.ToJsonString(), signing.Credentials))).ToList());
        }
        // Hydra disables the Kratos session the login came from (identity_provider_session_id): Gatehouse's own, or with
        // urls.identity_provider.url the external Kratos's (kratos.go DisableSession skips an empty id).
        if (session.IdentityProviderSessionId.Length > 0) await identityProvider.DisableSessionAsync(session.IdentityProviderSessionId, sid, ct);
        return front;
    }

    private static IEnumerable<string> Audiences(JsonObject claims) => claims["aud"] switch
    {
        JsonArray a => a.Select(x => x is JsonValue v && v.TryGetValue<string>(out var s) ? s : "").ToList(),
        JsonValue v when v.TryGetValue<string>(out var s) => [s],
        _ => [],
    };

    private async Task<OAuth2LoginSession?> RememberedAsync(string? sessionCookie, CancellationToken ct) =>
        sessionCookie is { Length: > 0 and < 200 } ? await flows.FindRememberedLoginSessionAsync(Hash(sessionCookie), Now(), ct) : null;

    private async Task<OAuth2LogoutRequest?> FindRequestAsync(string challenge, CancellationToken ct) =>
        ValidChallenge(challenge) ? await flows.FindLogoutRequestAsync(Hash(challenge), ct) : null;

    private static bool ValidChallenge(string challenge) => challenge.Length is > 0 and <= 200;

    private static string Str(JsonObject o, string name) => o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";

    private static string FormatTime(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string NewSecret() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    private static byte[] Hash(string secret) => LoginConsentService.Hash(secret);

    /// <summary>Whole seconds, as Hydra rounds the request's times.</summary>
    private DateTime Now()
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "OAuth2 logout completed for login session {Sid}")]
    private static partial void LogLogoutCompleted(ILogger logger, string sid);
}
