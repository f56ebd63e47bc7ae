using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.Http.Errors;
using Gatehouse.SelfService.Errors;

namespace Gatehouse.Ui;

/// <summary>
/// The error page: <c>/ui/error?id=</c> shows an error that Gatehouse forwarded to the error UI (read through
/// <see cref="SelfServiceErrors"/>, as a custom UI reads <c>GET /self-service/errors?id=</c>), and the pages render
/// their own failures (a flow of another browser or account) in place with it.
/// </summary>
public sealed class UiErrorPage(GatehouseOptions options)
{
    public const string CsrfViolation = "security_csrf_violation";

    private readonly string _publicBase = ReturnUrlPolicy.PublicBaseUrl(options).TrimEnd('/');

    /// <summary>
    /// <c>GET /ui/error?id=</c>: the stored error (status, id, reason, message) with a link to sign in; 404 with a short
    /// text when there is no such error (or it was cleaned up). <c>?id=stub:500</c> shows Kratos's stub error.
    /// </summary>
    public async Task ShowAsync(HttpContext context, SelfServiceErrors errors)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(errors);
        var container = await errors.FindAsync(context.Request.Query["id"].ToString(), context.RequestAborted);
        if (container?["error"] is not JsonObject error)
        {
            await RenderAsync(context, 404, new Shown(null, null, null, null), restartKind: null, notFound: true);
            return;
        }
        var code = error["code"] is JsonValue c && c.GetValueKind() == JsonValueKind.Number && c.TryGetValue<int>(out var n) ? n : (int?)null;
        await RenderAsync(context, 200, new Shown(code, Str(error, "id"), Str(error, "reason"), Str(error, "message")), restartKind: null, notFound: false);
    }

    /// <summary>A page's own failure, rendered in place with <paramref name="status"/>.</summary>
    /// <param name="restartKind">The flow kind a "start again" link starts (null: a link to sign in).</param>
    public Task WriteAsync(HttpContext context, int status, string? errorId, string? reason, string? restartKind)
    {
        ArgumentNullException.ThrowIfNull(context);
        return RenderAsync(context, status, new Shown(status, errorId, reason, null), restartKind, notFound: false);
    }

    private sealed record Shown(int? Code, string? ErrorId, string? Reason, string? Message);

    private Task RenderAsync(HttpContext context, int status, Shown shown, string? restartKind, bool notFound)
    {
        var text = UiText.For(context.Request);
        var (title, explanation) = shown.ErrorId switch
        {
            _ when notFound => (text["error.title"], text["error.unknown.text"]),
            CsrfViolation => (text["error.csrf.title"], text["error.csrf.text"]),
            "security_identity_mismatch" => (text["error.title"], text["error.forbidden.text"]),
            _ => (text["error.title"], text["error.text"]),
        };
        var html = new HtmlWriter();
        html.Open("div", Attr.Of("class", "messages flow-messages"))
            .Element("p", explanation, Attr.Of("class", "message message-error"), Attr.Of("role", "alert"))
            .Close("div");
        if (!notFound)
        {
            html.Open("dl", Attr.Of("class", "details"));
            if (shown.Code is int code && code >= 400) Detail(html, text["error.code"], $"{code} {GatehouseError.StatusText(code)}");
            if (shown.ErrorId is not null) Detail(html, text["error.id"], shown.ErrorId);
            if (!string.IsNullOrEmpty(shown.Reason)) Detail(html, text["error.reason"], shown.Reason);
            if (!string.IsNullOrEmpty(shown.Message)) Detail(html, text["error.message"], shown.Message);
            html.Close("dl");
        }
        html.Open("nav", Attr.Of("class", "links"));
        if (restartKind is not null) html.Element("a", text["error.start-again"], Attr.Of("class", "button"), Attr.Of("href", $"{_publicBase}/self-service/{restartKind}/browser"));
        else html.Element("a", text["error.home"], Attr.Of("class", "button"), Attr.Of("href", $"{_publicBase}/self-service/login/browser"));
        html.Close("nav");
        return UiLayout.WriteAsync(context, status, text, _publicBase, title, html.ToString());
    }

    private static string? Str(JsonObject o, string key) =>
        o[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static void Detail(HtmlWriter html, string term, string value) =>
        html.Open("div").Element("dt", term).Element("dd", value).Close("div");
}
