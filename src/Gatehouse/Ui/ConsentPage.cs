using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.OAuth2;
using Gatehouse.OAuth2.Consent;
using Gatehouse.SelfService.Csrf;
using Gatehouse.SelfService.Flows;
using Gatehouse.Sessions;

namespace Gatehouse.Ui;

/// <summary>
/// <c>GET|POST /ui/consent</c>: the built-in consent page of the OAuth2 provider (Hydra's consent app, in the server),
/// used when <c>urls.consent</c> is not set. It answers only for the signed-in identity the request is for, so a consent
/// challenge seen elsewhere cannot be answered in another browser or account; a remembered consent or a client marked
/// <c>skip_consent</c> is accepted without a page. The form is CSRF-protected like the flows' forms (the browser's
/// CSRF cookie must match the form's token) and works without JavaScript.
/// </summary>
public sealed partial class ConsentPage(BuiltInConsent consent, SessionManager sessions, CsrfTokens csrf, UiErrorPage errors, GatehouseOptions options, ILogger<ConsentPage> logger)
{
    private readonly string _publicBase = ReturnUrlPolicy.PublicBaseUrl(options).TrimEnd('/');

    /// <summary>The scopes whose meaning the page explains; other scopes are shown by name.</summary>
    private static readonly string[] KnownScopes = ["openid", "offline_access", "offline", "email", "profile", "phone", "address"];

    public async Task ShowAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var challenge = http.Request.Query["consent_challenge"].ToString();
        if (await LoadForSessionAsync(http, challenge) is not { } loaded) return;
        if (loaded.AnswerWithoutAsking)
        {
            // Remembered, or a first-party client: grant what was requested (Hydra's consent app example does the same).
            await AnswerAsync(http, () => consent.AcceptAsync(challenge, loaded, loaded.RequestedScope, remember: false, http.RequestAborted));
            return;
        }
        var text = UiText.For(http.Request);
        var client = loaded.Client;
        var clientName = Str(client, "client_name") is { Length: > 0 } n ? n : Str(client, "client_id") ?? "";
        var html = new HtmlWriter();
        html.Open("p", Attr.Of("class", "lead")).Element("strong", clientName).Text(" " + text["consent.intro"]).Close("p");
        html.Open("form", Attr.Of("action", _publicBase + OAuth2Settings.BuiltInConsentPath), Attr.Of("method", "POST"), Attr.Of("class", "flow-form"));
        html.Void("input", Attr.Of("type", "hidden"), Attr.Of("name", "csrf_token"), Attr.Of("value", csrf.Ensure(http)));
        html.Void("input", Attr.Of("type", "hidden"), Attr.Of("name", "consent_challenge"), Attr.Of("value", challenge));
        html.Open("fieldset", Attr.Of("class", "scopes")).Element("legend", text["consent.scopes"]);
        var i = 0;
        foreach (var scope in loaded.RequestedScope)
        {
            var id = "scope-" + i++;
            html.Open("div", Attr.Of("class", "field")).Open("div", Attr.Of("class", "checkbox"));
            html.Void("input", Attr.Of("id", id), Attr.Of("type", "checkbox"), Attr.Of("name", "grant_scope"), Attr.Of("value", scope), Attr.Flag("checked", true));
            html.Open("label", Attr.Of("for", id)).Element("code", scope);
            if (KnownScopes.Contains(scope)) html.Text(" — " + text["consent.scope." + scope]);
            html.Close("label").Close("div").Close("div");
        }
        html.Close("fieldset");
        html.Open("div", Attr.Of("class", "field")).Open("div", Attr.Of("class", "checkbox"));
        html.Void("input", Attr.Of("id", "remember"), Attr.Of("type", "checkbox"), Attr.Of("name", "remember"), Attr.Of("value", "true"), Attr.Flag("checked", true));
        html.Element("label", text["consent.remember"], Attr.Of("for", "remember"));
        html.Close("div").Close("div");
        html.Element("button", text["consent.allow"], Attr.Of("type", "submit"), Attr.Of("name", "action"), Attr.Of("value", "accept"));
        html.Element("button", text["consent.deny"], Attr.Of("type", "submit"), Attr.Of("name", "action"), Attr.Of("value", "reject"), Attr.Of("class", "button-secondary"));
        html.Close("form");
        var policy = SafeLink(Str(client, "policy_uri"));
        var tos = SafeLink(Str(client, "tos_uri"));
        if (policy is not null || tos is not null)
        {
            html.Open("nav", Attr.Of("class", "links"));
            if (policy is not null) html.Open("p").Element("a", text["consent.policy"], Attr.Of("href", policy), Attr.Of("rel", "noopener noreferrer")).Close("p");
            if (tos is not null) html.Open("p").Element("a", text["consent.tos"], Attr.Of("href", tos), Attr.Of("rel", "noopener noreferrer")).Close("p");
            html.Close("nav");
        }
        await UiLayout.WriteAsync(http, 200, text, _publicBase, text["consent.title"], html.ToString(), FormTargets(client));
    }

    public async Task SubmitAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (await CheckedForm.ReadAsync(http, csrf, errors, "consent") is not { } form) return;
        var challenge = form["consent_challenge"].ToString();
        if (await LoadForSessionAsync(http, challenge) is not { } loaded) return;
        switch (form["action"].ToString())
        {
            case "accept":
                var scopes = form["grant_scope"].OfType<string>().ToList();
                await AnswerAsync(http, () => consent.AcceptAsync(challenge, loaded, scopes, form["remember"].ToString() == "true", http.RequestAborted));
                break;
            case "reject":
                await AnswerAsync(http, () => consent.RejectAsync(challenge, http.RequestAborted));
                break;
            default:
                await errors.WriteAsync(http, 400, null, "The consent form's action must be accept or reject.", null);
                break;
        }
    }

    /// <summary>
    /// The consent request, when it exists, is still open, and belongs to the identity signed in here; otherwise the answer
    /// is written (the error page, or a 303 onwards for a request that was answered already) and null returned.
    /// </summary>
    private async Task<BuiltInConsent.Loaded?> LoadForSessionAsync(HttpContext http, string challenge)
    {
        BuiltInConsent.Loaded loaded;
        try
        {
            loaded = await consent.LoadAsync(challenge, http.RequestAborted);
        }
        catch (OAuth2Error e)
        {
            await errors.WriteAsync(http, e.StatusCode is 400 or 404 ? e.StatusCode : 500, e.Error, e.FullDescription, null);
            return null;
        }
        if (loaded.GoneTo is { } goneTo)
        {
            // Answered already (a second tab, the back button): Hydra sends the browser to the authorization request again.
            FlowService.Redirect(http, goneTo);
            return null;
        }
        var session = await sessions.FromRequestAsync(http, http.RequestAborted);
        if (session is null || session.IdentityId.ToString() != loaded.Subject)
        {
            await errors.WriteAsync(http, 403, "security_identity_mismatch", "The consent request belongs to another account, or you are not signed in in this browser.", null);
            return null;
        }
        return loaded;
    }

    private async Task AnswerAsync(HttpContext http, Func<Task<string>> answer)
    {
        string next;
        try
        {
            next = await answer();
        }
        catch (OAuth2Error e)
        {
            if (e.StatusCode >= 500) LogConsentFailed(logger, e.FullDescription);
            await errors.WriteAsync(http, e.StatusCode is 400 or 404 ? e.StatusCode : 500, e.Error, e.FullDescription, null);
            return;
        }
        FlowService.Redirect(http, next);
    }

    /// <summary>
    /// Where the form's answer may lead: Chromium applies <c>form-action</c> to every redirect after a form submit, and the
    /// answer ends at one of the client's redirect URIs (the code, or the error).
    /// </summary>
    public static IEnumerable<string> FormTargets(JsonObject client)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (client["redirect_uris"] is not JsonArray uris) yield break;
        foreach (var uri in uris.Select(u => u?.GetValue<string>()).OfType<string>())
        {
            if (!Uri.TryCreate(uri, UriKind.Absolute, out var u)) continue;
            // CSP source expressions: an origin for http(s), the scheme alone for an app's custom scheme.
            if (u.Scheme is "http" or "https") yield return u.GetLeftPart(UriPartial.Authority);
            else if (u.Scheme.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.')) yield return u.Scheme + ":";
        }
    }

    private static string? SafeLink(string? url) =>
        url is not null && Uri.TryCreate(url, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" ? url : null;

    private static string? Str(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    [LoggerMessage(Level = LogLevel.Error, Message = "The built-in consent page could not answer a consent request: {Reason}")]
    private static partial void LogConsentFailed(ILogger logger, string reason);
}
