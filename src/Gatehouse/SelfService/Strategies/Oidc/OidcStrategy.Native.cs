using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Ui;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.Oidc;

public sealed partial class OidcStrategy
{
    /// <summary>The presets whose ID tokens a native app may bring (Kratos's <c>IDTokenVerifier</c> providers).</summary>
    public static bool VerifiesIdTokens(string provider) => provider is "google" or "apple";

    /// <summary>
    /// Native sign-in (Kratos's <c>ProcessIDToken</c>): the app got an ID token from the provider's SDK and submits it with
    /// <c>id_token_nonce</c>. Only the <c>google</c> and <c>apple</c> presets accept one; it must be signed by the provider,
    /// issued by it, to the client id (or an <c>additional_id_token_audiences</c> entry) and unexpired. A token with a
    /// nonce needs the same <c>id_token_nonce</c>; one without is accepted only where Kratos lets the provider skip it
    /// (Google; Apple when the token says <c>nonce_supported: false</c>). Then the flow finishes as at the callback.
    /// False (with the reason on <paramref name="ui"/>) when the provider is unknown or unreachable.
    /// </summary>
    private async Task<bool> NativeAsync(HttpContext http, SelfServiceFlow flow, UiContainer ui, JsonObject body, CancellationToken ct)
    {
        var providerId = FormBody.String(body, "provider");
        var provider = Provider(providerId);
        if (provider is null)
        {
            ui.Messages.Add(Messages.Generic($"Unable to find the OpenID Connect provider \"{providerId}\": it is not configured."));
            return false;
        }
        if (!VerifiesIdTokens(provider.Provider))
            throw new GatehouseError(502, $"The provider {provider.Provider} does not support id_token verification");
        OidcProviderMetadata meta;
        try
        {
            meta = await upstream.MetadataAsync(provider, ct);
        }
        catch (OidcUpstreamError e)
        {
            ui.Messages.Add(Messages.Generic(e.Reason));
            return false;
        }
        var idToken = FormBody.String(body, "id_token")!;
        JsonObject claims;
        try
        {
            claims = await idTokens.ValidateAsync(idToken, meta, OidcUpstream.Audiences(provider), expectedNonce: null, ct);
        }
        catch (OidcUpstreamError e)
        {
            throw new GatehouseError(403, "Could not verify id_token", details: new JsonObject { ["error"] = e.Reason });
        }
        var nonce = claims["nonce"] is JsonValue n && n.TryGetValue<string>(out var s) ? s : "";
        var given = FormBody.String(body, "id_token_nonce") ?? "";
        if (nonce.Length == 0)
        {
            if (!CanSkipNonce(provider.Provider, claims))
                throw new GatehouseError(502, "No nonce was included in the id_token but is required by the provider");
        }
        else if (given.Length == 0)
        {
            throw new GatehouseError(502, "No nonce was provided but is required by the provider");
        }
        else if (!OidcState.SameValue(given, nonce))
        {
            throw new GatehouseError(502, "The supplied nonce does not match the nonce from the id_token");
        }
        SessionTokenExchange.SuppressFor(http);
        await callback.Value.FinishAsync(http, flow, provider, claims, new OidcTokens(idToken, null, null), ct);
        return true;
    }

    /// <summary>Kratos's <c>NonceValidationSkipper</c>: Google SDKs may not send one; Apple says so with <c>nonce_supported</c>.</summary>
    private static bool CanSkipNonce(string provider, JsonObject claims) => provider switch
    {
        "google" => true,
        "apple" => !(claims["nonce_supported"] is JsonValue v && (v.TryGetValue<bool>(out var b) ? b : v.TryGetValue<string>(out var t) && t == "true")),
        _ => false,
    };
}
