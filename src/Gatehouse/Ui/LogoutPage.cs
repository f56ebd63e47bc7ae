using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.OAuth2;
using Gatehouse.OAuth2.Logout;
using Gatehouse.SelfService.Csrf;
using Gatehouse.SelfService.Flows;
using Gatehouse.Sessions;

namespace Gatehouse.Ui;

/// <summary>
/// <c>GET|POST /ui/logout</c>: the built-in logout app of the OAuth2 provider (used when <c>urls.logout</c> is not set),
/// written against the logout requests a Hydra logout app reads and answers. It asks "Log out?" (a client marked
/// <c>skip_logout_consent</c> is logged out without asking); Yes accepts the logout request and ends this browser's
/// Kratos session when it belongs to the user being logged out — Kratos and Hydra as one — and No rejects it. The form is
/// CSRF-protected like the flows' forms and works without JavaScript.
/// </summary>
public sealed partial class LogoutPage(LogoutService logout, SessionManager sessions, CsrfTokens csrf, UiErrorPage errors, ReturnUrlPolicy returnUrls, OAuth2Settings settings, GatehouseOptions options, ILogger<LogoutPage> logger)
{
    private readonly string _publicBase = ReturnUrlPolicy.PublicBaseUrl(options).TrimEnd('/');

    public async Task ShowAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var challenge = http.Request.Query["logout_challenge"].ToString();
        if (await LoadAsync(http, challenge) is not { } request) return;
        var client = request["client"] as JsonObject;
        if (client?["skip_logout_consent"] is JsonValue skip && skip.TryGetValue<bool>(out var s) && s)
        {
            await AcceptAsync(http, challenge, request);
            return;
        }
        var text = UiText.For(http.Request);
        var html = new HtmlWriter();
        var clientName = client is null ? null : Str(client, "client_name") is { Length: > 0 } n ? n : Str(client, "client_id");
        if (clientName is { Length: > 0 }) html.Open("p", Attr.Of("class", "lead")).Element("strong", clientName).Text(" " + text["logout.intro.client"]).Close("p");
        else html.Element("p", text["logout.intro"], Attr.Of("class", "lead"));
        html.Open("form", Attr.Of("action", _publicBase + OAuth2Settings.BuiltInLogoutPath), Attr.Of("method", "POST"), Attr.Of("class", "flow-form"));
        html.Void("input", Attr.Of("type", "hidden"), Attr.Of("name", "csrf_token"), Attr.Of("value", csrf.Ensure(http)));
        html.Void("input", Attr.Of("type", "hidden"), Attr.Of("name", "logout_challenge"), Attr.Of("value", challenge));
        html.Element("button", text["logout.accept"], Attr.Of("type", "submit"), Attr.Of("name", "action"), Attr.Of("value", "accept"));
        html.Element("button", text["logout.reject"], Attr.Of("type", "submit"), Attr.Of("name", "action"), Attr.Of("value", "reject"), Attr.Of("class", "button-secondary"));
        html.Close("form");
        await UiLayout.WriteAsync(http, 200, text, _publicBase, text["logout.title"], html.ToString(), FormTargets(client));
    }

    public async Task SubmitAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (await CheckedForm.ReadAsync(http, csrf, errors, "logout") is not { } form) return;
        var challenge = form["logout_challenge"].ToString();
        switch (form["action"].ToString())
        {
            case "accept":
                if (await LoadAsync(http, challenge) is { } request) await AcceptAsync(http, challenge, request);
                break;
            case "reject":
                if (await LoadAsync(http, challenge) is null) return;
                await AnswerAsync(http, async () =>
                {
                    await logout.RejectAsync(challenge, http.RequestAborted);
                    // The user stays logged in; Hydra leaves the next step to the logout app: back to the start.
                    return returnUrls.DefaultReturnUrl;
                });
                break;
            default:
                await errors.WriteAsync(http, 400, null, "The logout form's action must be accept or reject.", null);
                break;
        }
    }

    /// <summary>Accepts the request and ends this browser's Kratos session when it is the user's who is logged out.</summary>
    private Task AcceptAsync(HttpContext http, string challenge, JsonObject request) => AnswerAsync(http, async () =>
    {
        var redirect = (await logout.AcceptAsync(challenge, http.RequestAborted)).Body!["redirect_to"]!.GetValue<string>();
        if (await sessions.FromRequestAsync(http, http.RequestAborted) is { } own && own.IdentityId.ToString() == request["subject"]?.GetValue<string>())
        {
            await sessions.RevokeAsync(own.Id, http.RequestAborted);
            sessions.ClearCookie(http);
            csrf.Regenerate(http);
        }
        return redirect;
    });

    /// <summary>The open logout request; otherwise the answer is written (an error page, or a 303 to the request again when it was handled) and null returned.</summary>
    private async Task<JsonObject?> LoadAsync(HttpContext http, string challenge)
    {
        LogoutService.AdminAnswer answer;
        try
        {
            answer = await logout.GetRequestAsync(challenge, http.RequestAborted);
        }
        catch (OAuth2Error e)
        {
            await errors.WriteAsync(http, e.StatusCode is 400 or 404 ? e.StatusCode : 500, e.Error, e.FullDescription, null);
            return null;
        }
        if (answer.Status == 410)
        {
            // Handled already (a second tab, the back button): start the logout again, as Hydra's redirect_to says.
            FlowService.Redirect(http, settings.Endpoint(answer.Body!["redirect_to"]!.GetValue<string>()));
            return null;
        }
        return answer.Body;
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
            if (e.StatusCode >= 500) LogLogoutFailed(logger, e.FullDescription);
            await errors.WriteAsync(http, e.StatusCode is 400 or 404 ? e.StatusCode : 500, e.Error, e.FullDescription, null);
            return;
        }
        FlowService.Redirect(http, next);
    }

    /// <summary>Where the form's answer may lead after the logout endpoint (Chromium checks <c>form-action</c> on every redirect after a submit).</summary>
    private IEnumerable<string> FormTargets(JsonObject? client)
    {
        var urls = new List<string> { settings.PostLogoutRedirectUrl, returnUrls.DefaultReturnUrl };
        if (client?["post_logout_redirect_uris"] is JsonArray uris) urls.AddRange(uris.Select(u => u?.GetValue<string>()).OfType<string>());
        foreach (var url in urls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var u)) continue;
            if (u.Scheme is "http" or "https") yield return u.GetLeftPart(UriPartial.Authority);
            else if (u.Scheme.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.')) yield return u.Scheme + ":";
        }
    }

    private static string? Str(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    [LoggerMessage(Level = LogLevel.Error, Message = "The built-in logout page could not answer a logout request: {Reason}")]
    private static partial void LogLogoutFailed(ILogger logger, string reason);
}
