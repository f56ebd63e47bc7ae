using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Ui;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.Oidc;

public sealed partial class OidcStrategy
{
    /// <summary>
    /// Native sign-in (Kratos's <c>ProcessIDToken</c>): the app got an ID token from the provider's SDK and submits it with
    /// <c>id_token_nonce</c>. Only presets that verify native ID tokens (<c>google</c>, <c>apple</c>) accept one; it must be signed by the provider,
    /// issued by it, to the client id (or an <c>additional_id_token_audiences</c> entry) and unexpired. A token with a
    /// nonce needs the same <c>id_token_nonce</c>; one without is accepted only where Kratos lets the provider skip it
    /// (Google; Apple when the token says <c>nonce_supported: false</c>). Then the flow finishes as at the callback.
    /// False (with the reason on <paramref name="ui"/>) when the provider is unreachable; an unknown one is a 404.
    /// </summary>
    private async Task<bool> NativeAsync(HttpContext http, SelfServiceFlow flow, UiContainer ui, JsonObject body, CancellationToken ct)
    {
        var providerId = FormBody.String(body, "provider");
        var provider = Provider(providerId);
        if (provider is null) throw UnknownProvider(providerId);
        var preset = Presets.OidcPresets.Of(provider);
        if (!preset.VerifiesNativeIdTokens)
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
            if (!preset.CanSkipNonce(claims))
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
}
