using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.Oidc;

/// <summary>
/// The <c>oidc</c> method (Kratos's <c>selfservice/strategy/oidc</c>): sign in and sign up with an upstream OpenID Connect
/// provider. A submit <c>{method: "oidc", provider}</c> sends the browser to the provider (303; SPAs and API clients get 422
/// <c>browser_location_change_required</c>) with an encrypted <c>state</c>, a nonce and PKCE; the provider sends it back to
/// <see cref="OidcCallback"/>, which finishes the login or registration. The identity is found by its credential
/// identifier <c>&lt;provider id&gt;:&lt;subject&gt;</c>; a new one gets its traits from the provider's Jsonnet mapper.
/// </summary>
public sealed partial class OidcStrategy(
    OidcUpstream upstream,
    OidcCipher cipher,
    IdTokenValidator idTokens,
    Lazy<OidcCallback> callback,
    IPrivilegedIdentityStore store,
    IdentityManager identities,
    CredentialKinds kinds,
    SessionManager sessions,
    Hooks.HookRunner hooks,
    FlowService flows,
    GatehouseOptions options) : ITestLoginStrategy, IRegistrationStrategy, ISettingsStrategy, IStrategyDescriptor
{
    public const string MethodName = CredentialTypes.Oidc;
    public const string Group = "oidc";

    /// <summary>Where a flow keeps the id of the state it sent upstream (removed when the state is used).</summary>
    public const string StateContextKey = "oidc_state_id";

    /// <summary>The cookie binding an API flow's state to the browser that goes upstream (browser flows use their CSRF cookie).</summary>
    public const string ContinuityCookie = "gatehouse_oidc_continuity";

    public string Name => MethodName;

    public string Aal => AssuranceLevels.Aal1;

    /// <summary>
    /// The session's method entry for a sign-in with <paramref name="provider"/> (Kratos's <c>AALForClaims</c> and
    /// <c>CompletedLoginForOIDC</c>): aal2 when the provider's <c>acr</c> claim is one of <c>aal2_acr_values</c> (an empty
    /// <c>acr</c> never is) or one of its <c>amr</c> values is one of <c>aal2_amr_values</c>, else aal1; with the claims
    /// themselves as <c>upstream_acr</c> / <c>upstream_amr</c> when the provider sent them.
    /// </summary>
    public static AuthenticationMethod Proof(Config.OidcProviderOptions provider, JsonObject claims, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(claims);
        var acr = claims["acr"] is JsonValue a && a.TryGetValue<string>(out var acrText) && acrText.Length > 0 ? acrText : null;
        // RFC 8176 makes amr an array of strings; a single string is read as one value, anything else as none.
        List<string>? amr = claims["amr"] switch
        {
            JsonArray values => [.. values.OfType<JsonValue>().Select(v => v.TryGetValue<string>(out var s) ? s : null).OfType<string>()],
            JsonValue one when one.TryGetValue<string>(out var single) => [single],
            _ => null,
        };
        var aal2 = (acr is not null && provider.Aal2AcrValues.Contains(acr, StringComparer.Ordinal))
            || (amr is not null && provider.Aal2AmrValues.Any(want => amr.Contains(want, StringComparer.Ordinal)));
        return new AuthenticationMethod(MethodName, aal2 ? AssuranceLevels.Aal2 : AssuranceLevels.Aal1, now, provider.Id)
        {
            UpstreamAcr = acr,
            UpstreamAmr = amr is { Count: > 0 } ? amr : null,
        };
    }

    public static string ConfigName => MethodName;

    public static bool IsEnabled(GatehouseOptions options) => options.Selfservice.Methods.Oidc.Enabled;

    private IReadOnlyList<OidcProviderOptions> Providers => options.Selfservice.Methods.Oidc.Config.Providers;

    /// <summary>
    /// Kratos's oidc method answers any submit naming a <c>provider</c> whose <c>method</c> is <c>oidc</c> or absent (a
    /// provider button posts only <c>provider</c>), and leaves one naming another method to that method.
    /// </summary>
    public bool Handles(string? method, JsonObject body) =>
        !string.IsNullOrEmpty(FormBody.String(body, "provider")) && (string.IsNullOrEmpty(method) || string.Equals(method, Name, StringComparison.OrdinalIgnoreCase));

    /// <summary>In settings, a <c>link</c> or <c>unlink</c> button posts only itself (Kratos's decoder reads both without a method).</summary>
    /// <summary>Kratos's <c>updateSettingsFlowWithOidcMethod</c> has no <c>csrf_token</c>: SDKs cannot send one.</summary>
    bool ISettingsStrategy.SubmitCarriesCsrfToken => false;

    bool ISettingsStrategy.Handles(string? method, JsonObject body) =>
        method == Name || (string.IsNullOrEmpty(method) && (FormBody.String(body, "link") is { Length: > 0 } || FormBody.String(body, "unlink") is { Length: > 0 }));

    public OidcProviderOptions? Provider(string? id) => id is null ? null : Providers.FirstOrDefault(p => p.Id == id);

    /// <summary>One submit per provider (Kratos's <c>AddProviders</c>): <c>provider=&lt;id&gt;</c>, labelled with the provider's label.</summary>
    private void AddProviderNodes(UiContainer ui, Func<string, string, JsonObject> label)
    {
        foreach (var p in Providers) ui.Nodes.Add(UiNodes.Submit("provider", p.Id, Group, label(p.DisplayLabel, p.Id)));
    }

    /// <summary>
    /// Starts the upstream sign-in for a flow: a new state (kept in the flow's internal context by id, so it is used once),
    /// and the authorization URL the browser goes to. Null (with the reason on <paramref name="ui"/>) when the provider cannot
    /// be reached; an unknown one is <see cref="UnknownProvider"/>.
    /// </summary>
    private async Task<string?> StartAsync(HttpContext http, SelfServiceFlow flow, UiContainer ui, JsonObject body, CancellationToken ct, string? providerId = null)
    {
        providerId ??= FormBody.String(body, "provider");
        var provider = Provider(providerId);
        if (provider is null) throw UnknownProvider(providerId);
        OidcProviderMetadata meta;
        try
        {
            meta = await upstream.MetadataAsync(provider, ct);
        }
        catch (OidcUpstreamError e)
        {
            ui.Messages.Add(Messages.Generic(e.Reason));
            return null;
        }
        string? bindingHash = null;
        // An app that asked for a token exchange opens the URL in a browser that never saw the API answer: the state is
        // bound to the flow's exchange code instead of a continuity cookie (Kratos's SessionTokenExchangeCodeSha512).
        var exchangeHash = flow.Type == FlowTypes.Api ? SessionTokenExchange.PendingInitHash(flow) : null;
        // A test flow's browser has no CSRF cookie bound to the flow (its token is a bearer): it gets the continuity cookie.
        if ((flow.Type != FlowTypes.Browser || flow.IsTestFlow) && exchangeHash is null)
        {
            var binding = OidcState.NewRandom();
            bindingHash = OidcState.HashBinding(binding);
            http.Response.Cookies.Append(ContinuityCookie, binding, new CookieOptions
            {
                HttpOnly = true,
                Path = "/self-service/methods/oidc/",
                SameSite = SameSiteMode.Lax,
                Secure = Http.CookieSecurity.Secure(options),
                MaxAge = flow.ExpiresAt - flow.IssuedAt,
            });
        }
        var state = new OidcState(flow.Id, flow.Kind, provider.Id, OidcState.NewRandom(), OidcState.NewRandom(),
            OidcUpstream.UsesPkce(provider, meta) ? OidcState.NewRandom() : null, bindingHash, exchangeHash);
        var previousContext = flow.InternalContext;
        var context = JsonNode.Parse(flow.InternalContext ?? "{}") as JsonObject ?? [];
        context[StateContextKey] = state.Id;
        flow.InternalContext = context.ToJsonString();
        try
        {
            return await upstream.AuthorizationUrlAsync(provider, meta, state.Encrypt(cipher), state.Nonce, state.PkceVerifier, UpstreamParameters(body), flow.Refresh, ct);
        }
        catch (OidcUpstreamError e)
        {
            // An OAuth 1.0a provider refused the request token: no state was handed out, so the flow keeps none.
            flow.InternalContext = previousContext;
            ui.Messages.Add(Messages.Generic(e.Reason));
            return null;
        }
    }

    /// <summary>
    /// Kratos's answer to a provider id no configured provider has (its <c>ConfigurationCollection.Provider</c>): a 404 system
    /// error, not a message on the flow — HTML browsers go to the error UI.
    /// </summary>
    public static Http.Errors.GatehouseError UnknownProvider(string? providerId) =>
        Http.Errors.GatehouseError.NotFound($"OpenID Connect Provider \"{providerId}\" is unknown or has not been configured");

    /// <summary>Kratos passes these of the submit's <c>upstream_parameters</c> on to the provider, and no others.</summary>
    private static Dictionary<string, string> UpstreamParameters(JsonObject body)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (body["upstream_parameters"] is not JsonObject given) return result;
        foreach (var name in new[] { "login_hint", "hd", "prompt", "acr_values" })
        {
            if (given[name] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String && v.GetValue<string>() is { Length: > 0 } s) result[name] = s;
        }
        return result;
    }

    // Login

    public Task PopulateAsync(LoginForm form, CancellationToken ct)
    {
        AddProviderNodes(form.Ui, Messages.SignInWith);
        return Task.CompletedTask;
    }

    /// <summary>The identifier-first login's first screen: the same provider buttons as a unified login.</summary>
    public Task PopulateIdentifierFirstIdentificationAsync(LoginForm form, CancellationToken ct) => PopulateAsync(form, ct);

    /// <summary>
    /// The identifier-first login's second screen (Kratos's oidc <c>PopulateLoginMethodIdentifierFirstCredentials</c>): the
    /// buttons of the providers linked to the identity in place of all of them; none when it has no linked account; with
    /// account enumeration mitigated the first screen's buttons stay as they are (and count as found).
    /// </summary>
    public Task<bool> PopulateIdentifierFirstCredentialsAsync(LoginForm form, IdentifierFirstHint hint, CancellationToken ct)
    {
        var linked = hint.Identity is null ? [] : LinkedAccounts(hint.Identity).Select(a => Provider(a.Provider)).OfType<OidcProviderOptions>().DistinctBy(p => p.Id).ToList();
        if (hint.MitigateEnumeration) return Task.FromResult(true);
        // Without an identity the first screen's buttons stay: this method cannot tell whether the person has an account there.
        if (hint.Identity is not null) form.Ui.Nodes.RemoveAll(n => n["group"]?.GetValue<string>() == Group && n["attributes"]?["name"]?.GetValue<string>() == "provider");
        foreach (var p in linked) form.Ui.Nodes.Add(UiNodes.Submit("provider", p.Id, Group, Messages.SignInWith(p.DisplayLabel, p.Id)));
        return Task.FromResult(linked.Count > 0);
    }

    public async Task<Identity?> AuthenticateAsync(LoginSubmission submission, CancellationToken ct)
    {
        if (submission.Flow.IsTestFlow)
        {
            submission.RedirectBrowserTo = await StartTestAsync(submission, ct);
            return null;
        }
        if (!string.IsNullOrEmpty(FormBody.String(submission.Body, "id_token")))
        {
            submission.Answered = await NativeAsync(submission.Http, submission.Flow, submission.Ui, submission.Body, ct);
            return null;
        }
        submission.RedirectBrowserTo = await StartAsync(submission.Http, submission.Flow, submission.Ui, submission.Body, ct);
        return null;
    }

    // Registration

    public void Populate(RegistrationForm form) => AddProviderNodes(form.Ui, Messages.SignUpWith);

    public async Task<RegistrationOutcome> RegisterAsync(RegistrationSubmission submission, CancellationToken ct)
    {
        var ui = UiContainer.FromJson(submission.Flow.Ui);
        ui.ClearMessages();
        if (!string.IsNullOrEmpty(FormBody.String(submission.Body, "id_token")))
            return await NativeAsync(submission.Http, submission.Flow, ui, submission.Body, ct) ? new RegistrationOutcome.Answered() : new RegistrationOutcome.ShowForm(ui, 400);
        var url = await StartAsync(submission.Http, submission.Flow, ui, submission.Body, ct);
        if (url is null) return new RegistrationOutcome.ShowForm(ui, 400);
        // Traits the user filled in (the form shown when the provider's were incomplete) win over the mapper's at the
        // callback, as Kratos merges them; empty fields of a posted form are no answer.
        var context = JsonNode.Parse(submission.Flow.InternalContext ?? "{}") as JsonObject ?? [];
        if (WithoutEmpty(submission.SubmittedTraits) is JsonObject { Count: > 0 } traits) context[TraitsContextKey] = traits;
        else context.Remove(TraitsContextKey);
        submission.Flow.InternalContext = context.ToJsonString();
        return new RegistrationOutcome.RedirectBrowser(ui, url);
    }

    /// <summary>Where a registration flow keeps the traits submitted with the provider button.</summary>
    public const string TraitsContextKey = "oidc_traits";

    /// <summary>The value without empty strings and the objects left empty by removing them.</summary>
    private static JsonNode? WithoutEmpty(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                var result = new JsonObject();
                foreach (var (k, v) in o)
                {
                    if (WithoutEmpty(v) is { } kept && kept is not JsonObject { Count: 0 }) result[k] = kept;
                }
                return result;
            case JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String && v.GetValue<string>().Length == 0:
                return null;
            default:
                return node?.DeepClone();
        }
    }

    /// <summary><paramref name="over"/> merged over <paramref name="under"/>, object by object.</summary>
    public static JsonObject Merge(JsonObject under, JsonObject? over)
    {
        var result = (JsonObject)under.DeepClone();
        foreach (var (k, v) in over ?? [])
        {
            result[k] = v is JsonObject vo && result[k] is JsonObject ro ? Merge(ro, vo) : v?.DeepClone();
        }
        return result;
    }
}
