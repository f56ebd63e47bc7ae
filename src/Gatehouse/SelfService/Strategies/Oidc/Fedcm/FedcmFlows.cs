using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;
using Gatehouse.SelfService.Csrf;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Flows.Login;
using Gatehouse.Sessions;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Gatehouse.SelfService.Strategies.Oidc.Fedcm;

/// <summary>
/// Federated Credential Management (the browser's <c>navigator.credentials.get({identity})</c>), as Ory Network serves it
/// beside Kratos's API: <see cref="ParametersAsync"/> hands a page what the browser's call needs (per provider with a
/// <c>fedcm_config_url</c>: the config URL, the client id and a fresh nonce bound to this browser) and the anti-CSRF token;
/// <see cref="TokenAsync"/> takes the assertion the browser got back, verifies it as the provider's ID token, uses its
/// nonce up, and signs in (or up) exactly as a social sign-in with an ID token does — through a browser login flow made
/// for the request, so hooks, session cookie, answer and flow switches are the login's.
/// </summary>
public sealed class FedcmFlows(
    CsrfTokens csrf,
    IFedcmNonceStore nonces,
    OidcUpstream upstream,
    IdTokenValidator idTokens,
    OidcCallback callback,
    LoginFlows login,
    SessionManager sessions,
    FlowService flows,
    GatehouseOptions options)
{
    /// <summary>How many unused nonces a browser keeps per FedCM provider (a page may ask for parameters more than once).</summary>
    private const int KeptPerProvider = 5;

    /// <summary>The providers taking part: those with a <c>fedcm_config_url</c>, while the oidc method is enabled.</summary>
    private IEnumerable<OidcProviderOptions> Providers =>
        options.Selfservice.Methods.Oidc.Enabled
            ? options.Selfservice.Methods.Oidc.Config.Providers.Where(p => !string.IsNullOrEmpty(p.FedcmConfigUrl))
            : [];

    /// <summary>
    /// <c>GET /self-service/fed-cm/parameters</c> (<c>createFedcmFlow</c>): the browser's anti-CSRF token (the cookie is set
    /// when it has none, as for a browser flow) and one entry per FedCM provider with a new nonce. The nonces are stored as
    /// digests with the digest of the browser's token and expire with <c>selfservice.flows.login.lifespan</c>.
    /// </summary>
    public async Task ParametersAsync(HttpContext http)
    {
        var ct = http.RequestAborted;
        var token = csrf.Ensure(http);
        var browser = Digest(token);
        var expiresAt = flows.Now() + options.Selfservice.Flows.Login.Lifespan;
        var issued = new List<FedcmNonce>();
        var providers = new JsonArray();
        foreach (var provider in Providers)
        {
            var nonce = OidcState.NewRandom();
            issued.Add(new FedcmNonce
            {
                Pk = Http.MonotonicUuid.Next(),
                Signature = Digest(nonce),
                BrowserSignature = browser,
                Provider = provider.Id,
                ExpiresAt = expiresAt,
            });
            providers.Add(new JsonObject
            {
                ["config_url"] = provider.FedcmConfigUrl,
                ["client_id"] = provider.ClientId,
                ["nonce"] = nonce,
                // Chrome 132 and later take the nonce in params (the top-level nonce is deprecated there).
                ["parameters"] = new JsonObject { ["nonce"] = nonce },
            });
        }
        await nonces.AddAsync(issued, Math.Max(1, issued.Count) * KeptPerProvider, ct);
        http.Response.Headers.CacheControl = "private, no-cache, no-store, must-revalidate";
        await HttpJson.WriteAsync(http, StatusCodes.Status200OK, new JsonObject { ["csrf_token"] = token, ["providers"] = providers });
    }

    /// <summary>
    /// <c>POST /self-service/fed-cm/token</c> (<c>updateFedcmFlow</c>, JSON or form): the body's <c>csrf_token</c> (or
    /// <c>X-CSRF-Token</c>) must be the browser's anti-CSRF cookie; <c>token</c> must be an ID token of a FedCM provider
    /// (signed with its keys, by its issuer, to its client id, unexpired) whose <c>nonce</c> is one
    /// <see cref="ParametersAsync"/> issued to this browser for that provider, unused and unexpired (a <c>nonce</c> in
    /// the body must be the same). Only then is anything written: the nonce is used up and a browser login flow finishes
    /// with the token's claims (<see cref="OidcCallback.FinishAsync"/>).
    /// </summary>
    public async Task TokenAsync(HttpContext http)
    {
        var ct = http.RequestAborted;
        var body = await FormBody.ReadAsync(http.Request, ct);
        var submitted = FormBody.String(body, "csrf_token") is { Length: > 0 } inBody ? inBody : http.Request.Headers["X-CSRF-Token"].ToString();
        if (!csrf.Matches(http, submitted))
            throw CsrfTokens.Violation("The request body's csrf_token is missing or does not match the anti-CSRF cookie; use the csrf_token of GET /self-service/fed-cm/parameters from the same browser.");
        var browserToken = http.Request.Cookies[csrf.CookieName]!;
        var token = FormBody.String(body, "token");
        if (string.IsNullOrEmpty(token))
            throw GatehouseError.BadRequest("The request body's token is missing: send the token navigator.credentials.get returned.");
        // As when a login flow is started: a signed-in browser does not sign in again.
        if (await sessions.FromRequestAsync(http, ct) is not null) throw FlowResponder.SessionAlreadyAvailable();

        var (provider, idToken, claims) = await VerifyAsync(token, ct);

        // The nonce is what ties the assertion to this browser's request: FedCM always requires it (Kratos's native
        // sign-in lets google tokens without one through; a FedCM page always has one to send).
        var nonce = claims["nonce"] is JsonValue n && n.TryGetValue<string>(out var s) ? s : "";
        if (nonce.Length == 0)
            throw new GatehouseError(StatusCodes.Status502BadGateway, "No nonce was included in the id_token but is required by the provider");
        if (FormBody.String(body, "nonce") is { Length: > 0 } given && !OidcState.SameValue(given, nonce))
            throw new GatehouseError(StatusCodes.Status502BadGateway, "The supplied nonce does not match the nonce from the id_token");
        switch (await nonces.SpendAsync(Digest(nonce), Digest(browserToken), provider.Id, flows.Now(), ct))
        {
            case FedcmNonceUse.Expired:
                throw new GatehouseError(StatusCodes.Status410Gone,
                    "The nonce of the id_token has expired; fetch new parameters from GET /self-service/fed-cm/parameters and ask the browser again.",
                    "self_service_flow_expired", "the FedCM parameters have expired");
            case FedcmNonceUse.Unknown:
                throw GatehouseError.Forbidden(
                    "The nonce of the id_token was not issued to this browser for this provider by GET /self-service/fed-cm/parameters, or it was already used.");
        }

        var flow = await login.CreateForBrowserAsync(http, csrf.Ensure(http), ct);
        FlowService.TakeTransientPayload(flow, body);
        await callback.FinishAsync(http, flow, provider, claims, new OidcTokens(idToken, null, null), ct);
    }

    /// <summary>
    /// The FedCM provider of the assertion, the ID token it stands for and that token's claims. An assertion that is a JWT names
    /// its provider by its (not yet verified) audience: the client id or an <c>additional_id_token_audiences</c> entry of a
    /// provider with <c>fedcm_config_url</c>; it is then verified against that provider alone. Any other assertion goes to
    /// the providers whose preset exchanges assertions for ID tokens (netID), in configuration order, until one takes it
    /// — a JWT issued to someone else is never sent anywhere.
    /// </summary>
    private async Task<(OidcProviderOptions Provider, string IdToken, JsonObject Claims)> VerifyAsync(string token, CancellationToken ct)
    {
        List<string>? audiences = null;
        try
        {
            audiences = [.. new JsonWebToken(token).Audiences];
        }
        catch (ArgumentException)
        {
            // Not a JWT: only an exchanging preset may make something of it.
        }
        List<OidcProviderOptions> candidates;
        if (audiences is not null)
        {
            candidates = [.. Providers.Where(p => OidcUpstream.Audiences(p).Any(audiences.Contains)).Take(1)];
            if (candidates.Count == 0)
            {
                var configured = options.Selfservice.Methods.Oidc.Config.Providers.FirstOrDefault(p => OidcUpstream.Audiences(p).Any(audiences.Contains));
                throw CouldNotVerify(configured is null
                    ? "The ID token was issued to a client (audience) of no provider with FedCM enabled."
                    : $"The ID token was issued to provider \"{configured.Id}\", which has no fedcm_config_url: FedCM is not enabled for it.");
            }
        }
        else
        {
            candidates = [.. Providers.Where(p => Presets.OidcPresets.Of(p).ExchangesFedcmToken)];
            if (candidates.Count == 0) throw CouldNotVerify("The ID token is invalid: it is not a well-formed JWT.");
        }
        OidcUpstreamError? failure = null;
        foreach (var provider in candidates)
        {
            try
            {
                var (idToken, issuer) = await Presets.OidcPresets.Of(provider).FedcmIdTokenAsync(upstream, provider, token, ct);
                return (provider, idToken, await idTokens.ValidateAsync(idToken, issuer, OidcUpstream.Audiences(provider), expectedNonce: null, ct));
            }
            catch (OidcUpstreamError e)
            {
                failure = e;
            }
        }
        throw CouldNotVerify(failure!.Reason);
    }

    /// <summary>Kratos's answer to an ID token that does not verify (its <c>ProcessIDToken</c>): 403 with the cause in <c>details.error</c>.</summary>
    private static GatehouseError CouldNotVerify(string why) =>
        new(StatusCodes.Status403Forbidden, "Could not verify id_token", details: new JsonObject { ["error"] = why });

    private static byte[] Digest(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));
}
