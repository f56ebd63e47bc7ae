using System.Globalization;
using Gatehouse.Config;
using Gatehouse.Courier;
using Gatehouse.Http;

namespace Gatehouse.Ui;

/// <summary>
/// <c>/ui/dev/mailbox</c>: the mail the courier queued, newest first, and one message's text — so a newcomer running
/// <c>serve --dev</c> reads verification and recovery codes without an SMTP server. Mapped only with <c>--dev</c>:
/// it shows every recipient's codes to anyone who can reach the public listener.
/// </summary>
public sealed class DevMailboxPages(CourierMessages messages, GatehouseOptions options, UiErrorPage errors)
{
    /// <summary>The list shows this many messages; older ones stay in the admin API.</summary>
    public const int PageSize = 50;

    private readonly string _publicBase = ReturnUrlPolicy.PublicBaseUrl(options).TrimEnd('/');

    public async Task ListAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var text = UiText.For(http.Request);
        var (page, _) = await messages.ListAsync(new CourierMessageListQuery(PageSize, null, null, null), http.RequestAborted);
        var mail = page.Where(m => m.Type == "email").ToList();
        var html = new HtmlWriter();
        html.Open("p").Text(text["mailbox.intro"]).Close("p");
        if (mail.Count == 0)
        {
            html.Open("p", Attr.Of("class", "message")).Text(text["mailbox.empty"]).Close("p");
        }
        else
        {
            html.Open("ul", Attr.Of("class", "mailbox"));
            foreach (var m in mail)
            {
                html.Open("li")
                    .Element("a", m.Subject.Length > 0 ? m.Subject : text["mailbox.no-subject"], Attr.Of("href", _publicBase + UiEndpoints.DevMailbox + "/" + m.Id.ToString()))
                    .Open("p", Attr.Of("class", "mailbox-meta"))
                    .Text(text["mailbox.to"] + " " + m.Recipient + " · ");
                Time(html, m.CreatedAt);
                html.Text(" · ").Element("span", Status(text, m.Status), Attr.Of("class", m.Status == CourierMessageStatus.Sent ? "badge badge-ok" : "badge"));
                html.Close("p").Close("li");
            }
            html.Close("ul");
        }
        html.Open("nav", Attr.Of("class", "links")).Open("p").Element("a", text["back-to-login"], Attr.Of("href", _publicBase + "/self-service/login/browser")).Close("p").Close("nav");
        await UiLayout.WriteAsync(http, 200, text, _publicBase, text["mailbox.title"], html.ToString());
    }

    public async Task MessageAsync(HttpContext http, string id)
    {
        ArgumentNullException.ThrowIfNull(http);
        var message = Guid.TryParse(id, out var messageId) ? await messages.FindAsync(messageId, http.RequestAborted) : null;
        if (message is null || message.Type != "email")
        {
            await errors.WriteAsync(http, 404, null, "The message does not exist, or it was deleted.", null);
            return;
        }
        var text = UiText.For(http.Request);
        var html = new HtmlWriter();
        html.Open("section", Attr.Of("aria-labelledby", "message-subject"))
            .Element("h2", message.Subject.Length > 0 ? message.Subject : text["mailbox.no-subject"], Attr.Of("id", "message-subject"));
        html.Open("dl", Attr.Of("class", "details"));
        html.Open("div").Element("dt", text["mailbox.to"]).Element("dd", message.Recipient).Close("div");
        html.Open("div").Element("dt", text["mailbox.date"]).Open("dd");
        Time(html, message.CreatedAt);
        html.Close("dd").Close("div");
        html.Open("div").Element("dt", text["mailbox.status"]).Element("dd", Status(text, message.Status)).Close("div");
        html.Open("div").Element("dt", text["mailbox.template"]).Element("dd", message.TemplateType).Close("div");
        html.Close("dl");
        // The text body only: the HTML alternative would need its own sandbox, and the text has the same code and link.
        html.Element("pre", message.Body, Attr.Of("class", "mail-body"), Attr.Of("tabindex", "0"), Attr.Of("aria-label", text["mailbox.body"]));
        html.Close("section");
        html.Open("nav", Attr.Of("class", "links")).Open("p").Element("a", text["mailbox.back"], Attr.Of("href", _publicBase + UiEndpoints.DevMailbox)).Close("p").Close("nav");
        await UiLayout.WriteAsync(http, 200, text, _publicBase, text["mailbox.title"], html.ToString());
    }

    private static string Status(UiText text, string status) => status switch
    {
        CourierMessageStatus.Sent => text["mailbox.status.sent"],
        CourierMessageStatus.Abandoned => text["mailbox.status.abandoned"],
        _ => text["mailbox.status.queued"],
    };

    private static void Time(HtmlWriter html, DateTime utc) =>
        html.Element("time", utc.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture), Attr.Of("datetime", utc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)));
}
