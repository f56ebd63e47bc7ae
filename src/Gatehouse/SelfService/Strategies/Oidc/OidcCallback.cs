using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.Identities;
using Gatehouse.SelfService.Csrf;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Flows.Login;
using Gatehouse.SelfService.Flows.Registration;
using Gatehouse.SelfService.Ui;
using Gatehouse.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace Gatehouse.SelfService.Strategies.Oidc;

/// <summary>
/// <c>GET|POST /self-service/methods/oidc/callback/{provider}</c>: where the provider sends the browser back. The
/// <c>state</c> must decrypt, name this provider, belong to a flow that still waits for it (used once) and come back to
/// the browser that started it; then the code is exchanged, the ID token validated and the flow finished: a login for a
/// known <c>&lt;provider&gt;:&lt;subject&gt;</c> (a login flow for an unknown one turns into a registration), a
/// registration with the mapped traits for an unknown one (a registration flow for a known one turns into a login), as
/// Kratos does. Errors before the flow is known go to the error UI; later ones are shown on the flow.
/// </summary>
public sealed partial class OidcCallback(
    OidcStrategy strategy,
    OidcUpstream upstream,
    OidcMapper mapper,
    OidcCipher cipher,
    FlowService flows,
    FlowResponder responder,
    CsrfTokens csrf,
    LoginFlows login,
    RegistrationFlows registration,
    Flows.Settings.SettingsFlows settings,
    IPrivilegedIdentityStore identities,
    IdentityManager identityManager,
    IVerifiableAddressStore verifiableAddresses,
    ConflictingIdentities conflicts,
    Config.GatehouseOptions options,
    TestLoginCookie testFlows,
    Http.ReturnUrlPolicy returnUrls,
    ILogger<OidcCallback> logger)
{
    public const string Route = "/self-service/methods/oidc/callback/{provider}";

    /// <summary>
    /// Kratos's SAML callback, which its <c>jackson</c> preset (SAML through BoxyHQ's SAML Jackson) registers as redirect
    /// URI; here it serves only providers of that preset.
    /// </summary>
    public const string SamlRoute = "/self-service/methods/saml/callback/{provider}";

    public static void Map(IEndpointRouteBuilder root)
    {
        MapRoute(root, Route);
        MapRoute(root, SamlRoute);
    }

    private static void MapRoute(IEndpointRouteBuilder root, string route)
    {
        root.MapGet(route, (HttpContext http, OidcCallback callback) => callback.HandleAsync(http)).ForwardErrorsToUi();
        // Providers using response_mode=form_post POST the answer: Kratos redirects to the GET with the same parameters,
        // so the browser's SameSite=Lax cookies come along.
        root.MapPost(route, async (HttpContext http) =>
        {
            if (!http.Request.HasFormContentType)
                throw GatehouseError.BadRequest("The OpenID Connect callback accepts a form post (response_mode=form_post) or a GET.");
            var body = await FormBody.ReadAsync(http.Request, http.RequestAborted);
            // Only the authorization response's parameters travel on, each bounded, so the redirect stays a sane URL.
            var kept = new List<KeyValuePair<string, string?>>();
            foreach (var name in ResponseParameters)
            {
                if (FormBody.String(body, name) is not { } value) continue;
                if (value.Length > MaxParameterLength) throw GatehouseError.BadRequest($"The OpenID Connect callback parameter {name} is too long.");
                kept.Add(new(name, value));
            }
            FlowService.Redirect(http, http.Request.PathBase + http.Request.Path + QueryString.Create(kept));
        }).ForwardErrorsToUi().DisableAntiforgery();
    }

    /// <summary>The authorization response parameters (RFC 6749 §4.1.2, RFC 9207 <c>iss</c>, Apple's <c>user</c> with the name on the first sign-in) a form post may carry.</summary>
    /// <remarks>
    /// Also DingTalk's <c>authCode</c> (its name for the code, which Kratos reads when <c>code</c> is absent) and OAuth 1.0a's
    /// <c>oauth_token</c>, <c>oauth_verifier</c> and <c>denied</c> (X).
    /// </remarks>
    private static readonly string[] ResponseParameters = ["state", "code", "error", "error_description", "error_uri", "iss", "user", "authCode", "oauth_token", "oauth_verifier", "denied"];

    private const int MaxParameterLength = 4096;

    public async Task HandleAsync(HttpContext http)
    {
        var ct = http.RequestAborted;
        var q = http.Request.Query;
        var stateParam = q["state"].ToString();
        if (stateParam.Length == 0)
            throw GatehouseError.BadRequest("Unable to complete OpenID Connect flow because the OpenID Provider did not return the state query parameter.");
        var state = OidcState.TryDecrypt(cipher, stateParam)
            ?? throw GatehouseError.BadRequest("Unable to complete OpenID Connect flow because the state parameter is invalid.");
        if (state.Provider != (string?)http.GetRouteValue("provider"))
            throw GatehouseError.BadRequest("Unable to complete OpenID Connect flow: provider mismatch between internal state and URL.");
        var samlRoute = http.Request.Path.StartsWithSegments("/self-service/methods/saml", StringComparison.Ordinal);
        if (samlRoute != (strategy.Provider(state.Provider) is { } configured && Presets.OidcPresets.Of(configured).UsesSamlCallback))
            throw GatehouseError.BadRequest("Unable to complete OpenID Connect flow: the provider's callback is not this URL.");
        if (state.FlowKind is not (FlowKinds.Login or FlowKinds.Registration or FlowKinds.Settings))
            throw GatehouseError.BadRequest("Unable to complete OpenID Connect flow because the state parameter is invalid.");
        var flow = await flows.LoadAsync(state.FlowId, state.FlowKind, ct);

        // A finished flow's state brought back again changes nothing and is answered so before the browser check: signing in
        // gave the browser a new anti-CSRF token, which the finished flow does not carry (Kratos binds the callback to its
        // continuity cookie, which the sign-in does not replace).
        if (flow.State == FlowStates.PassedChallenge)
            throw GatehouseError.BadRequest("The request was already completed successfully and can not be retried.");
        // The state comes back to the browser that started: a browser flow's CSRF cookie, else (API and test flows) the
        // continuity cookie.
        if (flow.Type == FlowTypes.Browser && !flow.IsTestFlow) csrf.VerifyCookie(http, flow);
        else if (state.ExchangeHash is not null)
        {
            if (!OidcState.SameValue(state.ExchangeHash, SessionTokenExchange.PendingInitHash(flow)))
                throw GatehouseError.BadRequest("Unable to complete OpenID Connect flow because the query state parameter does not match the state parameter from the code.");
        }
        else if (!OidcState.SameValue(state.BindingHash, http.Request.Cookies[OidcStrategy.ContinuityCookie] is { } b ? OidcState.HashBinding(b) : null))
            throw GatehouseError.BadRequest("Unable to complete OpenID Connect flow because the query state parameter does not match the state parameter from the session cookie.");
        if (flows.IsExpired(flow)) throw flows.ExpiredOnFetch(flow);

        // Used once: the flow forgets the state's id before anything else happens, in one conditional update (the context
        // must still be the one read here), so a replayed callback — even one racing this one — is refused.
        var context = JsonNode.Parse(flow.InternalContext ?? "{}") as JsonObject ?? [];
        var used = GatehouseError.BadRequest("Unable to complete OpenID Connect flow because the state parameter was already used or belongs to an earlier attempt.");
        if (!OidcState.SameValue((string?)context[OidcStrategy.StateContextKey], state.Id)) throw used;
        context.Remove(OidcStrategy.StateContextKey);
        if (!await flows.SwapInternalContextAsync(flow, context.ToJsonString(), ct)) throw used;
        // The submit that sent the browser upstream already stored the method as active (Kratos's flow.Active); writing it
        // again would only move updated_at, which the swap has just set.
        if (flow.Active != strategy.Name)
        {
            flow.Active = strategy.Name;
            await flows.UpdateAsync(flow, ct);
        }
        if (flow.Type == FlowTypes.Api || flow.IsTestFlow) http.Response.Cookies.Delete(OidcStrategy.ContinuityCookie, new CookieOptions { Path = "/self-service/methods/oidc/" });

        var provider = strategy.Provider(state.Provider);
        if (q["error"].ToString() is { Length: > 0 } error)
        {
            await FailAsync(http, flow, state.Provider, $"Unable to complete OpenID Connect flow because the OpenID Provider returned error \"{error}\": {q["error_description"]}", ct, OidcTestSteps.ProviderDenied);
            return;
        }
        // DingTalk calls the code authCode (Kratos reads either).
        var code = q["code"].ToString() is { Length: > 0 } c ? c : q["authCode"].ToString();
        if (code.Length == 0)
        {
            await FailAsync(http, flow, state.Provider, "Unable to complete OpenID Connect flow because the OpenID Provider did not return the code query parameter.", ct, OidcTestSteps.Callback);
            return;
        }
        if (provider is null) throw OidcStrategy.UnknownProvider(state.Provider);

        OidcTokens tokens;
        JsonObject claims;
        JsonObject? userinfo = null;
        // Which step is running, for a test flow's report of a failure (Kratos's oidcerr steps).
        var step = OidcTestSteps.Callback;
        try
        {
            var meta = await upstream.MetadataAsync(provider, ct);
            var parameters = CallbackParameters(q);
            step = OidcTestSteps.TokenExchange;
            tokens = await upstream.ExchangeAsync(provider, meta, code, state.PkceVerifier, parameters, ct);
            step = OidcTestSteps.ClaimsDecode;
            claims = await upstream.ClaimsAsync(provider, meta, tokens, state.Nonce, parameters, ct, info => userinfo = info);
        }
        catch (OidcUpstreamError e)
        {
            LogUpstreamFailed(logger, provider.Id, e.Reason);
            // Kratos: a provider that cannot be initialised (discovery) is its ErrMisconfiguration and a failed code exchange
            // golang.org/x/oauth2's own error — both 500s; reading the account answers what the preset says.
            var status = e.Status ?? (step == OidcTestSteps.ClaimsDecode ? StatusCodes.Status400BadRequest : StatusCodes.Status500InternalServerError);
            await FailAsync(http, flow, provider.Id, e.Reason, ct, e.Step ?? step, status);
            return;
        }

        // A test flow ends here: what the provider sent and what the mapper and schema make of it are recorded on the flow;
        // no identity is looked up or written, no session issued, and the tokens are dropped.
        if (flow.IsTestFlow)
        {
            await CaptureTestAsync(http, flow, provider, claims, userinfo, ct);
            return;
        }

        if (flow.Kind == FlowKinds.Settings)
        {
            // Kratos's linkProvider pauses {link: provider} when the session is too old: after the refresh login the link starts again.
            var link = new JsonObject { ["method"] = strategy.Name, ["link"] = provider.Id, ["csrf_token"] = flow.CsrfToken };
            await strategy.LinkAsync(await settings.ResumeAsync(http, flow, strategy, ct, link), provider, claims, tokens, ct);
            return;
        }
        await FinishAsync(http, flow, provider, claims, tokens, ct);
    }

    /// <summary>The authorization response's parameters a preset may read (Apple's <c>user</c>), first value each.</summary>
    private static Dictionary<string, string> CallbackParameters(IQueryCollection query)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in ResponseParameters)
        {
            if (query[name].ToString() is { Length: > 0 and <= MaxParameterLength } value) parameters[name] = value;
        }
        return parameters;
    }

    /// <summary>
    /// The provider proved <c>sub</c> (at the callback, or natively with an ID token): a login for a known account, a
    /// registration for an unknown one, switching the flow's kind when needed, as Kratos's <c>processLogin</c> /
    /// <c>processRegistration</c>. The answer is written.
    /// </summary>
    public async Task FinishAsync(HttpContext http, SelfServiceFlow flow, Config.OidcProviderOptions provider, JsonObject claims, OidcTokens tokens, CancellationToken ct)
    {
        var subject = (string)claims["sub"]!;
        var identifier = $"{provider.Id}:{subject}";
        var existing = await identities.FindByIdentifierAsync(CredentialTypes.Oidc, identifier, ct);
        if (existing is not null)
        {
            var loginFlow = flow.Kind == FlowKinds.Login ? flow : await login.CreateForAsync(http, flow, ct);
            if (provider.UpdateIdentityOnLogin == "automatic")
            {
                try
                {
                    existing = await UpdateFromClaimsAsync(provider, existing, claims, ct);
                }
                catch (OidcUpstreamError e)
                {
                    await FailAsync(http, loginFlow, provider.Id, e.Reason, ct, status: e.Status ?? StatusCodes.Status500InternalServerError);
                    return;
                }
                catch (GatehouseError e) when (e.Code == StatusCodes.Status400BadRequest)
                {
                    // A mapper whose traits no longer fit the schema stops the sign-in and writes nothing (Kratos validates
                    // before it saves).
                    await FailAsync(http, loginFlow, provider.Id,
                        $"The identity the Jsonnet mapper of OpenID Connect provider \"{provider.Id}\" returned is not valid: {e.Reason ?? e.Message}", ct);
                    return;
                }
            }
            await login.CompleteExternalAsync(http, loginFlow, strategy, existing, ct, OidcStrategy.Proof(provider, claims, flows.Now()));
            return;
        }
        var registrationFlow = flow.Kind == FlowKinds.Registration ? flow : await registration.CreateForAsync(http, flow, ct);
        await RegisterAsync(http, registrationFlow, provider, subject, claims, tokens, ct);
    }

    /// <summary>
    /// <c>update_identity_on_login: automatic</c> (Kratos's <c>UpdateIdentityFromClaims</c>): the mapper runs again with the
    /// identity as <c>std.extVar('identity')</c>; its traits are merged over the stored ones (objects key by key, any other
    /// value it returns replaces the stored one, keys it leaves out keep theirs: Kratos's mergo merge with override), its
    /// <c>metadata_public</c> / <c>metadata_admin</c> replace the stored ones only when it returns them, and the addresses
    /// it lists as verified become verified. The identity is validated against its schema and saved only when something
    /// changed; addresses that stay keep their verification state.
    /// </summary>
    private async Task<Identity> UpdateFromClaimsAsync(Config.OidcProviderOptions provider, Identity identity, JsonObject claims, CancellationToken ct)
    {
        var mapped = await mapper.MapAsync(provider.Id, provider.MapperUrl, OidcUpstream.MapperClaims(claims), ct, identity);
        var stored = JsonNode.Parse(identity.Traits) as JsonObject ?? [];
        var traits = mapped.Traits.Count == 0 ? stored : OidcStrategy.Merge(stored, mapped.Traits);
        static bool Same(JsonNode? a, string? raw) => JsonNode.DeepEquals(a, string.IsNullOrEmpty(raw) ? null : JsonNode.Parse(raw));
        var changes = new IdentityChanges(
            JsonNode.DeepEquals(traits, stored) ? null : traits,
            mapped.MetadataPublic is { } mp && !Same(mp, identity.MetadataPublic) ? mp : null,
            mapped.MetadataAdmin is { } ma && !Same(ma, identity.MetadataAdmin) ? ma : null);
        if (!changes.IsEmpty) identity = await identityManager.ApplyFromHookAsync(identity.Id, changes, ct);
        // The store drops the identity's cached whoami answers once an address is verified (its update bypasses the change tracker).
        foreach (var address in identity.VerifiableAddresses.Where(a => a is { Via: "email", Verified: false } && mapped.VerifiedAddresses.Contains(a.Value, StringComparer.OrdinalIgnoreCase)).ToList())
        {
            await verifiableAddresses.MarkVerifiedAsync(identity.Id, address.Via, address.Value, flows.Now(), ct);
            address.Verified = true;
            address.Status = VerifiableAddressStatus.Completed;
            address.VerifiedAt = flows.Now();
        }
        return identity;
    }

    private async Task RegisterAsync(HttpContext http, SelfServiceFlow flow, Config.OidcProviderOptions provider, string subject, JsonObject claims, OidcTokens tokens, CancellationToken ct)
    {
        MappedIdentity mapped;
        try
        {
            mapped = await mapper.MapAsync(provider.Id, provider.MapperUrl, OidcUpstream.MapperClaims(claims), ct);
        }
        catch (OidcUpstreamError e)
        {
            // Kratos's newIdentityFromClaims: a mapper that cannot be fetched or evaluated, or returns no traits object, is a 500.
            await FailAsync(http, flow, provider.Id, e.Reason, ct, status: e.Status ?? StatusCodes.Status500InternalServerError);
            return;
        }
        var schema = registration.SchemaOf(flow);
        var context = JsonNode.Parse(flow.InternalContext ?? "{}") as JsonObject ?? [];
        JsonNode traits = OidcStrategy.Merge(mapped.Traits, context[OidcStrategy.TraitsContextKey] as JsonObject);
        var validation = schema.Validate(traits);
        if (!validation.IsValid)
        {
            // Kratos's HandleError for registration: only the CSRF token, the provider's Continue button and the traits
            // (as far as the provider filled them) with what is wrong, so the user completes them and goes round again.
            // Their group is default, or oidc with feature_flags.legacy_oidc_registration_node_group (strategy.go).
            var missing = ContinueForm(flow, provider.Id);
            var traitNodes = UiNodes.Traits(schema, traits).ToList();
            if (options.FeatureFlags.LegacyOidcRegistrationNodeGroup)
                foreach (var node in traitNodes) node["group"] = OidcStrategy.Group;
            missing.Nodes.AddRange(traitNodes);
            FlowService.AddTraitErrors(missing, validation.Errors);
            await registration.CompleteAsync(http, flow, schema, strategy.Name, new RegistrationOutcome.ShowForm(missing, 400), ct);
            return;
        }
        var ui = registration.FormFor(flow, traits);
        var credentials = new JsonObject
        {
            [CredentialTypes.Oidc] = new JsonObject
            {
                ["config"] = new JsonObject { ["providers"] = new JsonArray(new JsonObject { ["provider"] = provider.Id, ["subject"] = subject }) },
            },
        };
        var outcome = new RegistrationOutcome.CreateIdentity(ui, traits, credentials, mapped.VerifiedAddresses)
        {
            Provider = provider.Id,
            Proof = OidcStrategy.Proof(provider, claims, flows.Now()),
            Complete = identity =>
            {
                OidcCredentials.StoreTokens(cipher, identity, provider.Id, subject, tokens);
                if (mapped.MetadataPublic is not null) identity.MetadataPublic = mapped.MetadataPublic.ToJsonString();
                if (mapped.MetadataAdmin is not null) identity.MetadataAdmin = mapped.MetadataAdmin.ToJsonString();
            },
            OnDuplicate = (identity, token) => OfferLinkingAsync(http, flow, provider, identity, mapped.VerifiedAddresses, claims, token),
        };
        await registration.CompleteAsync(http, flow, schema, strategy.Name, outcome, ct);
    }

    /// <summary>
    /// The new identity collides with an existing one (Kratos's account linking, never automatic): a login flow asks the
    /// user to sign in to the existing account (message 1010016, the identifier pre-filled and hidden, the other methods
    /// relabelled "Sign in and link" / "Confirm with"); the social sign-in's credential, tokens encrypted, waits in that
    /// flow and is added once the login proves the account. The collision is found as Kratos's
    /// <c>ConflictingIdentity</c> finds it: a credential identifier, else a verifiable address, else a recovery address.
    /// With <c>login_hints</c> on, the login shows only the methods (and providers) the existing account signs in with.
    /// False when nothing stored collides (the registration shows 4000007 then).
    /// </summary>
    private async Task<bool> OfferLinkingAsync(HttpContext http, SelfServiceFlow registrationFlow, Config.OidcProviderOptions provider, Identity identity,
        IReadOnlyList<string>? verifiedByProvider, JsonObject claims, CancellationToken ct)
    {
        var oidc = identity.Credentials.FirstOrDefault(c => c.Type == CredentialTypes.Oidc);
        if (oidc is null || await conflicts.FindAsync(identity, ct) is not { } conflict) return false;
        var (duplicate, duplicateType) = (conflict.Value, conflict.Type);
        var loginHints = options.Selfservice.Flows.Registration.LoginHints;
        var hints = loginHints ? DuplicateCredentialHints.Of(conflict) : DuplicateCredentialHints.None;

        var oidcConfig = JsonNode.Parse(oidc.Config)!.AsObject();
        string[] oidcIdentifiers = [.. oidc.Identifiers.Select(i => i.Identifier)];

        // Opt-in automatic linking: only when the provider vouches for the address and the existing account proved it too,
        // so nobody gets into an account by registering its address at a provider that does not check addresses.
        if (provider.AccountLinkingMode == "automatic"
            && verifiedByProvider?.Contains(duplicate, StringComparer.OrdinalIgnoreCase) == true
            && conflict.Existing is { State: IdentityStates.Active } owner
            && owner.VerifiableAddresses.Any(a => a.Verified && string.Equals(a.Value, duplicate, StringComparison.OrdinalIgnoreCase)))
        {
            var linked = await identityManager.AddCredentialAsync(owner.Id, CredentialTypes.Oidc, oidcConfig, oidcIdentifiers, ct);
            LogAutomaticallyLinked(logger, provider.Id, owner.Id);
            var signIn = await login.CreateForAsync(http, registrationFlow, ct);
            await login.CompleteExternalAsync(http, signIn, strategy, linked, ct, OidcStrategy.Proof(provider, claims, flows.Now()));
            return true;
        }

        var loginFlow = await login.CreateForAsync(http, registrationFlow, ct);
        new DuplicateCredentials(CredentialTypes.Oidc, JsonNode.Parse(oidc.Config)!.AsObject(), [.. oidc.Identifiers.Select(i => i.Identifier)], duplicate, duplicateType)
            .WriteTo(loginFlow);
        var ui = UiContainer.FromJson(loginFlow.Ui);
        var nodes = new List<JsonObject>();
        foreach (var node in ui.Nodes)
        {
            var attributes = node["attributes"] as JsonObject;
            var label = node["meta"]?["label"] as JsonObject;
            var group = (string?)node["group"];
            if ((string?)attributes?["name"] == "identifier")
            {
                attributes!["type"] = "hidden";
                attributes["value"] = duplicate;
            }
            // Kratos's populateAccountLinkingUI leaves nodes without a label and the default group's alone.
            if (group == UiNodes.DefaultGroup || label is null)
            {
                nodes.Add(node);
                continue;
            }
            if (group == OidcStrategy.Group)
            {
                var providerId = (string?)label["context"]?["provider_id"] ?? (string?)attributes?["value"];
                if (providerId == provider.Id) continue; // the provider used to get here
                if (loginHints && !hints.AvailableOidcProviders.Contains(providerId ?? "", StringComparer.Ordinal)) continue;
            }
            var relabelled = (long?)label["id"] switch
            {
                1010001 => Messages.LoginAndLink(),
                1010002 => Messages.LoginWithAndLink((string?)label["context"]?["provider"] ?? ""),
                _ => null,
            };
            if (relabelled is not null) node["meta"]!["label"] = relabelled;
            // With login hints, only the methods the existing account has stay.
            if (!loginHints || hints.AvailableCredentialTypes.Contains(group ?? "", StringComparer.Ordinal)) nodes.Add(node);
        }
        ui.Nodes.Clear();
        ui.Nodes.AddRange(nodes);
        ui.ClearMessages();
        ui.Messages.Add(Messages.LoginLink(duplicate, string.IsNullOrEmpty(provider.Label) ? provider.Provider : provider.Label, flows.UiUrl(FlowKinds.Login),
            hints.AvailableCredentialTypes, hints.AvailableOidcProviders));
        loginFlow.Ui = ui.ToJson().ToJsonString();
        loginFlow.Active = strategy.Name;
        await flows.UpdateAsync(loginFlow, ct);
        // Kratos's x.SendFlowErrorAsRedirectOrJSON: a JSON client gets the login flow (400); a browser goes to the login UI,
        // or — for an API flow, whose app holds the flow — back to the app's return_to with ?flow=<login flow id>.
        if (FlowService.WantsJson(http.Request))
        {
            await FlowService.WriteFlowAsync(http, 400, flows.ToJson(loginFlow, ui.ToJson()));
            return true;
        }
        var to = loginFlow.Type == FlowTypes.Api
            ? QueryHelpers.AddQueryString(returnUrls.Resolve(loginFlow.ReturnTo), "flow", loginFlow.Id.ToString())
            : flows.UiUrlFor(loginFlow);
        FlowService.Redirect(http, QueryHelpers.AddQueryString(to, "no_org_ui", "true"));
        return true;
    }

    /// <summary>
    /// Kratos's registration form after a failed social sign-up (its oidc <c>HandleError</c> resets the nodes "to not confuse
    /// users"): the CSRF token and the used provider's 1040003 "Continue" button, nothing else.
    /// </summary>
    private UiContainer ContinueForm(SelfServiceFlow flow, string providerId)
    {
        var ui = new UiContainer { Action = flows.ActionUrl(flow) };
        if (flow.Type == FlowTypes.Browser) ui.Nodes.Add(UiNodes.Csrf(flow.CsrfToken));
        ui.Nodes.Add(UiNodes.Submit("provider", providerId, OidcStrategy.Group, Messages.RegistrationContinue()));
        return ui;
    }

    /// <summary>
    /// The sign-in failed after the flow was known; nothing is written. Any status but 400 is forwarded as Kratos's flow
    /// error handlers forward what <c>ui.ParseError</c> does not take: a browser goes to the error UI, an API flow (and a
    /// JSON request) gets the error itself. A 400's reason is shown on the flow (Kratos's 4000001). A
    /// registration flow keeps only the provider's Continue button (<see cref="ContinueForm"/>); an API flow whose app waits
    /// for a session token exchange sends the browser back to the app's return_to, without a code, as Kratos's flow error
    /// handlers do — the app reads the reason from its flow. A test flow records it instead, as the failure of
    /// <paramref name="step"/>.
    /// </summary>
    private async Task FailAsync(HttpContext http, SelfServiceFlow flow, string providerId, string reason, CancellationToken ct, string step = OidcTestSteps.Callback,
        int status = StatusCodes.Status400BadRequest)
    {
        if (flow.IsTestFlow)
        {
            await FinishTestAsync(http, flow, new JsonObject { ["error"] = TestError(step, OidcTestSteps.ReasonOf(step), reason) }, ct);
            return;
        }
        if (status != StatusCodes.Status400BadRequest)
        {
            // Kratos's login/registration/settings ErrorHandler.forward: an API flow writes the error, a browser flow's goes
            // to the error UI (errorx.Manager.Forward, which answers a JSON request with the error too).
            http.ForwardErrors(flow.Type == FlowTypes.Api ? ForwardedErrors.None : ForwardedErrors.All);
            throw new GatehouseError(status, reason);
        }
        if (flow.Kind == FlowKinds.Settings)
        {
            // A settings flow answers with its identity, for the session that owns it.
            var submission = await settings.ResumeAsync(http, flow, strategy, ct);
            submission.Ui.Messages.Add(Messages.Generic(reason));
            await submission.RespondAsync(400, ct);
            return;
        }
        var ui = flow.Kind == FlowKinds.Registration ? ContinueForm(flow, providerId) : UiContainer.FromJson(flow.Ui);
        ui.ClearMessages();
        ui.Messages.Add(Messages.Generic(reason));
        if (flow.Type == FlowTypes.Api && SessionTokenExchange.PendingInitHash(flow) is not null)
        {
            flow.Ui = ui.ToJson().ToJsonString();
            await flows.UpdateAsync(flow, ct);
            FlowService.Redirect(http, returnUrls.Resolve(flow.ReturnTo));
            return;
        }
        await responder.RespondWithFlowAsync(http, flow, ui, 400, ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "OpenID Connect provider {Provider} linked automatically to identity {IdentityId} (verified address on both sides)")]
    private static partial void LogAutomaticallyLinked(ILogger logger, string provider, Guid identityId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sign-in with OpenID Connect provider {Provider} failed: {Reason}")]
    private static partial void LogUpstreamFailed(ILogger logger, string provider, string reason);
}
