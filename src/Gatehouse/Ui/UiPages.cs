using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.Http.Errors;
using Gatehouse.SelfService.Flows;
using Gatehouse.Sessions;
using Microsoft.AspNetCore.WebUtilities;

namespace Gatehouse.Ui;

/// <summary>
/// The pages' handlers. A flow page loads its flow in-process by the public fetch endpoint's rules and renders its
/// <c>ui</c> with <see cref="FlowFormRenderer"/>; the welcome page shows the session.
/// </summary>
public sealed class UiPages(SessionManager sessions, GatehouseOptions options, UiErrorPage errors)
{
    private readonly string _publicBase = ReturnUrlPolicy.PublicBaseUrl(options).TrimEnd('/');

    /// <summary>The social sign-in providers' origins (issuer and authorization URL): a provider button's submit is redirected there.</summary>
    private readonly string[] _providerOrigins = !options.Selfservice.Methods.Oidc.Enabled ? [] :
        [.. options.Selfservice.Methods.Oidc.Config.Providers.SelectMany(SelfService.Strategies.Oidc.Presets.OidcPresets.BrowserDestinations)
            .Where(u => Uri.TryCreate(u, UriKind.Absolute, out _)).Select(u => new Uri(u!).GetLeftPart(UriPartial.Authority)).Distinct(StringComparer.Ordinal)];

    /// <summary>
    /// <c>GET /ui/&lt;kind&gt;[?flow=]</c>: without a flow (or with one that is gone, expired, or needs a session first)
    /// a 303 to a new browser flow, keeping <c>return_to</c>; a flow of another browser or account → the error page.
    /// </summary>
    public async Task FlowAsync(HttpContext http, string kind, Func<Guid, Task<JsonObject>> fetch)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(fetch);
        if (!Guid.TryParse(http.Request.Query["flow"].ToString(), out var id))
        {
            FlowService.Redirect(http, StartUrl(kind, http.Request.Query["return_to"].ToString()));
            return;
        }
        JsonObject flow;
        try
        {
            flow = await fetch(id);
        }
        catch (GatehouseError e) when (e.Code is 404 or 410 or 401)
        {
            // Unknown or expired flow, or settings without a session (the new flow sends the browser to sign in first).
            FlowService.Redirect(http, StartUrl(kind, http.Request.Query["return_to"].ToString()));
            return;
        }
        catch (GatehouseError e) when (e.ErrorId == "session_aal2_required" && e.Details?["redirect_browser_to"] is JsonValue stepUp)
        {
            // Settings of an aal1 session whose identity has a second factor: on to the second factor, then back here.
            FlowService.Redirect(http, stepUp.GetValue<string>());
            return;
        }
        catch (GatehouseError e)
        {
            await errors.WriteAsync(http, e.Code, e.ErrorId, e.Reason, kind);
            return;
        }
        var text = UiText.For(http.Request);
        var ui = flow["ui"] as JsonObject ?? [];
        var renderer = new FlowFormRenderer(text, src => src == _publicBase + SelfService.Strategies.WebAuthn.WebAuthnScript.Route);
        Func<string, string?>? groupTitle = kind == FlowKinds.Settings ? g => GroupTitle(text, g) : null;
        var body = new HtmlWriter().Raw(renderer.Render(ui, groupTitle));
        if (renderer.UsesScripts)
        {
            // Passkeys and security keys need WebAuthn (and so JavaScript); where there is none, say so and leave the other ways.
            body.Element("p", text["webauthn.unsupported"], Attr.Of("class", "message message-info webauthn-unsupported"), Attr.Flag("hidden", true), Attr.Of("role", "status"));
            body.Raw("<noscript>").Element("p", text["webauthn.noscript"], Attr.Of("class", "message message-info")).Raw("</noscript>");
            body.Element("script", null, Attr.Of("src", UiAssets.WebAuthnScriptHref(_publicBase)), Attr.Flag("defer", true));
        }
        Links(body, text, kind, flow, signedIn: await sessions.FromRequestAsync(http, http.RequestAborted) is not null);
        var title = kind != FlowKinds.Login ? text[kind + ".title"]
            : flow["requested_aal"] is JsonValue aal && aal.GetValueKind() == JsonValueKind.String && aal.GetValue<string>() == "aal2" ? text["login.aal2.title"]
            : flow["refresh"] is JsonValue r && r.GetValueKind() == JsonValueKind.True ? text["login.refresh.title"]
            : text[kind + ".title"];
        // A login for an OAuth2 client may end at the client's redirect URI (a rejected or skipped consent); a social
        // sign-in button's submit ends at the provider.
        var formTargets = flow["oauth2_login_request"]?["client"] is JsonObject client ? ConsentPage.FormTargets(client) : null;
        await UiLayout.WriteAsync(http, 200, text, _publicBase, title, body.ToString(), [.. formTargets ?? [], .. _providerOrigins], renderer.UsesScripts);
    }

    /// <summary><c>GET /ui/welcome</c>: the signed-in session (identity, traits, methods, expiry) with links to settings and logout.</summary>
    public async Task WelcomeAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var current = await sessions.CurrentAsync(http, http.RequestAborted);
        if (current?.Session.Identity is not { } identity)
        {
            FlowService.Redirect(http, StartUrl(FlowKinds.Login, _publicBase + UiEndpoints.Welcome));
            return;
        }
        var session = current.Session;
        var text = UiText.For(http.Request);
        var traits = JsonNode.Parse(identity.Traits);
        var html = new HtmlWriter();
        var name = identity.VerifiableAddresses.OrderBy(a => a.CreatedAt).FirstOrDefault()?.Value ?? FirstString(traits) ?? identity.Id.ToString();
        html.Open("p", Attr.Of("class", "lead")).Text(text["welcome.signed-in-as"] + " ").Element("strong", name).Text(".").Close("p");

        html.Open("section", Attr.Of("aria-labelledby", "session-title")).Element("h2", text["welcome.session"], Attr.Of("id", "session-title"));
        html.Open("dl", Attr.Of("class", "details"));
        Detail(html, text["welcome.session-id"], session.Id.ToString());
        DetailTime(html, text["welcome.authenticated-at"], session.AuthenticatedAt);
        DetailTime(html, text["welcome.expires-at"], session.ExpiresAt);
        Detail(html, text["welcome.aal"], session.Aal);
        var methods = SessionJson.ParseMethods(session.AuthenticationMethods).OfType<JsonObject>()
            .Select(m => m["method"]?.GetValue<string>()).Where(m => m is not null).Distinct();
        Detail(html, text["welcome.methods"], string.Join(", ", methods));
        html.Close("dl").Close("section");

        html.Open("section", Attr.Of("aria-labelledby", "identity-title")).Element("h2", text["welcome.identity"], Attr.Of("id", "identity-title"));
        html.Open("dl", Attr.Of("class", "details"));
        Detail(html, text["welcome.identity-id"], identity.Id.ToString());
        Detail(html, text["welcome.schema"], identity.SchemaId);
        foreach (var (path, value) in Flatten(traits, "")) Detail(html, path, value);
        html.Close("dl");
        if (identity.VerifiableAddresses.Count > 0)
        {
            html.Element("h3", text["welcome.addresses"]);
            html.Open("ul", Attr.Of("class", "addresses"));
            foreach (var a in identity.VerifiableAddresses.OrderBy(a => a.CreatedAt))
            {
                html.Open("li").Text(a.Value + " ")
                    .Element("span", a.Verified ? text["welcome.verified"] : text["welcome.unverified"], Attr.Of("class", a.Verified ? "badge badge-ok" : "badge"))
                    .Close("li");
            }
            html.Close("ul");
        }
        html.Close("section");

        html.Open("nav", Attr.Of("class", "links"), Attr.Of("aria-label", text["welcome.title"]));
        html.Element("a", text["welcome.settings"], Attr.Of("class", "button"), Attr.Of("href", _publicBase + SelfServiceEndpoints.SettingsBrowser));
        if (options.Selfservice.Flows.Verification.Enabled && identity.VerifiableAddresses.Any(a => !a.Verified))
            html.Element("a", text["welcome.verify"], Attr.Of("class", "button button-secondary"), Attr.Of("href", _publicBase + SelfServiceEndpoints.VerificationBrowser));
        html.Element("a", text["welcome.logout"], Attr.Of("class", "button button-secondary"), Attr.Of("href", LogoutEndpoints.LogoutUrl(options, current.Token, null)));
        html.Close("nav");
        await UiLayout.WriteAsync(http, 200, text, _publicBase, text["welcome.title"], html.ToString());
    }

    /// <summary>
    /// Links between the pages: sign up / forgot password from sign in, sign in from registration, back to the account from
    /// settings (and from verification and recovery when signed in), else back to sign in.
    /// </summary>
    private void Links(HtmlWriter html, UiText text, string kind, JsonObject flow, bool signedIn)
    {
        var flows = options.Selfservice.Flows;
        var returnTo = flow["return_to"] is JsonValue v && v.TryGetValue<string>(out var r) ? r : null;
        html.Open("nav", Attr.Of("class", "links"));
        switch (kind)
        {
            case FlowKinds.Login when flow["refresh"] is JsonValue refresh && refresh.GetValueKind() == JsonValueKind.True:
                html.Element("a", text["back-to-welcome"], Attr.Of("href", _publicBase + UiEndpoints.Welcome));
                break;
            case FlowKinds.Login:
                if (flows.Registration.Enabled)
                {
                    html.Open("p").Text(text["login.to-registration"] + " ")
                        .Element("a", text["login.to-registration.link"], Attr.Of("href", StartUrl(FlowKinds.Registration, returnTo))).Close("p");
                }
                if (flows.Recovery.Enabled) html.Open("p").Element("a", text["login.to-recovery"], Attr.Of("href", StartUrl(FlowKinds.Recovery, returnTo))).Close("p");
                break;
            case FlowKinds.Registration:
                html.Open("p").Text(text["registration.to-login"] + " ")
                    .Element("a", text["registration.to-login.link"], Attr.Of("href", StartUrl(FlowKinds.Login, returnTo))).Close("p");
                break;
            case FlowKinds.Settings:
            case FlowKinds.Verification or FlowKinds.Recovery when signedIn:
                html.Open("p").Element("a", text["back-to-welcome"], Attr.Of("href", _publicBase + UiEndpoints.Welcome)).Close("p");
                break;
            default:
                html.Open("p").Element("a", text["back-to-login"], Attr.Of("href", StartUrl(FlowKinds.Login, null))).Close("p");
                break;
        }
        html.Close("nav");
    }

    private static string? GroupTitle(UiText text, string group) => group switch
    {
        "profile" => text["settings.group.profile"],
        "password" => text["settings.group.password"],
        "totp" => text["settings.group.totp"],
        "lookup_secret" => text["settings.group.lookup_secret"],
        "passkey" => text["settings.group.passkey"],
        "webauthn" => text["settings.group.webauthn"],
        "oidc" => text["settings.group.oidc"],
        _ => group,
    };

    private string StartUrl(string kind, string? returnTo)
    {
        var url = $"{_publicBase}/self-service/{kind}/browser";
        return string.IsNullOrEmpty(returnTo) ? url : QueryHelpers.AddQueryString(url, "return_to", returnTo);
    }

    private static void Detail(HtmlWriter html, string term, string value) =>
        html.Open("div").Element("dt", term).Element("dd", value).Close("div");

    private static void DetailTime(HtmlWriter html, string term, DateTime utc) =>
        html.Open("div").Element("dt", term).Open("dd")
            .Element("time", utc.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture), Attr.Of("datetime", utc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)))
            .Close("dd").Close("div");

    /// <summary>Traits as <c>path: value</c> rows (<c>name.first</c>), arrays joined with commas.</summary>
    private static IEnumerable<(string Path, string Value)> Flatten(JsonNode? node, string path)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, child) in o)
                {
                    foreach (var row in Flatten(child, path.Length == 0 ? key : path + "." + key)) yield return row;
                }
                break;
            case JsonArray a:
                yield return (path, string.Join(", ", a.Select(x => x is JsonValue xv && xv.GetValueKind() == JsonValueKind.String ? xv.GetValue<string>() : x?.ToJsonString() ?? "")));
                break;
            case JsonValue v:
                yield return (path, v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString());
                break;
        }
    }

    private static string? FirstString(JsonNode? traits) =>
        Flatten(traits, "").Select(r => r.Value).FirstOrDefault(v => v.Length > 0);
}
