using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.Http.Errors;

namespace Gatehouse.Ui;

/// <summary>
/// The error page: <c>/ui/error?id=</c>, the pages' own failures, and — through <see cref="IBrowserErrorPage"/> — CSRF
/// failures of HTML form posts to <c>/self-service/*</c>, which a person would otherwise see as raw JSON.
/// </summary>
public sealed class UiErrorPage(GatehouseOptions options) : IBrowserErrorPage
{
    public const string CsrfViolation = "security_csrf_violation";

    private readonly string _publicBase = ReturnUrlPolicy.PublicBaseUrl(options).TrimEnd('/');

    public bool Handles(HttpContext context, GatehouseError error)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(error);
        // Only the submit routes (/self-service/<kind>): the fetch and init routes are API calls a page's script makes.
        return error.ErrorId == CsrfViolation && SubmittedKind(context.Request.Path) is not null;
    }

    private static string? SubmittedKind(PathString path)
    {
        var segments = path.Value?.Split('/', StringSplitOptions.RemoveEmptyEntries) ?? [];
        return segments is ["self-service", var kind] && UiEndpoints.FlowPageKinds.Contains(kind) ? kind : null;
    }

    public Task WriteAsync(HttpContext context, GatehouseError error)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(error);
        return WriteAsync(context, error.Code, error.ErrorId, error.Reason, SubmittedKind(context.Request.Path));
    }

    /// <param name="restartKind">The flow kind a "start again" link starts (null: a link to sign in).</param>
    public Task WriteAsync(HttpContext context, int status, string? errorId, string? reason, string? restartKind)
    {
        ArgumentNullException.ThrowIfNull(context);
        var text = UiText.For(context.Request);
        var (title, explanation) = errorId switch
        {
            CsrfViolation => (text["error.csrf.title"], text["error.csrf.text"]),
            "security_identity_mismatch" => (text["error.title"], text["error.forbidden.text"]),
            _ => (text["error.title"], text["error.text"]),
        };
        var html = new HtmlWriter();
        html.Open("div", Attr.Of("class", "messages flow-messages"))
            .Element("p", explanation, Attr.Of("class", "message message-error"), Attr.Of("role", "alert"))
            .Close("div");
        html.Open("dl", Attr.Of("class", "details"));
        if (status >= 400) Detail(html, text["error.code"], $"{status} {GatehouseError.StatusText(status)}");
        if (errorId is not null) Detail(html, text["error.id"], errorId);
        if (!string.IsNullOrEmpty(reason)) Detail(html, text["error.reason"], reason);
        html.Close("dl");
        html.Open("nav", Attr.Of("class", "links"));
        if (restartKind is not null) html.Element("a", text["error.start-again"], Attr.Of("class", "button"), Attr.Of("href", $"{_publicBase}/self-service/{restartKind}/browser"));
        else html.Element("a", text["error.home"], Attr.Of("class", "button"), Attr.Of("href", $"{_publicBase}/self-service/login/browser"));
        html.Close("nav");
        return UiLayout.WriteAsync(context, status, text, _publicBase, title, html.ToString());
    }

    private static void Detail(HtmlWriter html, string term, string value) =>
        html.Open("div").Element("dt", term).Element("dd", value).Close("div");
}
