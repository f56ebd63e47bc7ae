using System.Text.Json.Nodes;
using Gatehouse.Courier.Templates;
using Gatehouse.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Courier;

/// <summary>
/// What flows call to send a message: renders the template and stores the message as <c>queued</c>; a
/// <see cref="CourierWorker"/> delivers it later. Nothing is sent inline.
/// </summary>
public sealed class Courier(GatehouseDbContext db, CourierTemplates templates, TimeProvider time, IHttpContextAccessor? http = null, Config.GatehouseOptions? options = null)
{
    /// <summary>
    /// The templates whose messages carry the user's request headers (Kratos's templates with <c>RequestHeaders()</c>:
    /// the code sender's login, registration and recovery codes, e-mail and SMS).
    /// </summary>
    private static readonly HashSet<string> WithRequestHeaders = new(StringComparer.Ordinal) { "login_code_valid", "registration_code_valid", "recovery_code_valid" };

    /// <summary>
    /// The language of the built-in texts: the one the request that causes the message prefers among English and German
    /// (<c>Accept-Language</c>, the built-in pages' rule); English outside a request. Configured templates are used as they are.
    /// </summary>
    private string Language => Gatehouse.Http.AcceptLanguage.Best(http?.HttpContext?.Request, BuiltinTemplates.Languages);

    /// <summary>
    /// Renders <paramref name="templateType"/> (e.g. <c>verification_code_valid</c>, <c>recovery_code_invalid</c>,
    /// <c>login_code_valid</c>) with <paramref name="model"/> (snake_case keys such as <c>to</c>, <c>verification_code</c>,
    /// <c>verification_url</c>, <c>recovery_code</c>, <c>recovery_url</c>, <c>login_code</c>, <c>registration_code</c>,
    /// <c>identity</c>; templates see them under Kratos's names, <c>VerificationCode</c> etc.) and stores a queued e-mail
    /// to <paramref name="recipient"/>.
    /// <para>
    /// The row is inserted at once on the context's connection, inside the context's current transaction when there is
    /// one, without flushing the context's other pending changes (no <c>SaveChanges</c>). The returned message is not
    /// tracked by the context.
    /// </para>
    /// </summary>
    /// <exception cref="ArgumentException">Unknown template type or empty recipient.</exception>
    /// <exception cref="InvalidOperationException">An override template could not be loaded or parsed.</exception>
    /// <param name="deliver">
    /// False runs the same statement but writes no row: a flow that must not mail (an unknown address without
    /// <c>notify_unknown_recipients</c>) costs what a mailing one does, so the answer's timing does not tell them apart.
    /// </param>
    public async Task<CourierMessage> QueueEmailAsync(string templateType, string recipient, JsonObject model, CancellationToken ct, bool deliver = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(recipient);
        var type = CourierTemplateType.Parse(templateType);
        // The caller's model is only read (rendered, then stored as text); copied only when "to" must be added to it.
        var data = model;
        if (!model.ContainsKey("to"))
        {
            data = (JsonObject)model.DeepClone();
            data["to"] = recipient;
        }
        var email = await templates.RenderEmailAsync(type, data, ct, Language);
        return await InsertAsync("email", recipient, email.Subject, email.Body, email.HtmlBody, type, data, deliver, ct);
    }

    /// <summary>
    /// Renders the SMS text of <paramref name="templateType"/> (the one-time codes: <c>login_code_valid</c>,
    /// <c>registration_code_valid</c>, <c>verification_code_valid</c>, <c>recovery_code_valid</c>) and stores a queued SMS
    /// to the phone number <paramref name="recipient"/>, delivered through <c>courier.channels</c>' <c>sms</c> channel.
    /// Same transaction and <paramref name="deliver"/> rules as <see cref="QueueEmailAsync"/>. The model gains
    /// <c>request_url_domain</c> (templates: <c>RequestURLDomain</c>), the host of <c>request_url</c>, as Kratos's SMS models.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown template type, one without an SMS text, or empty recipient.</exception>
    public async Task<CourierMessage> QueueSmsAsync(string templateType, string recipient, JsonObject model, CancellationToken ct, bool deliver = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(recipient);
        var type = CourierTemplateType.Parse(templateType);
        var data = (JsonObject)model.DeepClone();
        data.TryAdd("to", recipient);
        // Kratos's SMS models carry the flow's domain for the WebOTP line (@domain #code).
        if (data["request_url"] is JsonValue v && v.TryGetValue<string>(out var url) && Uri.TryCreate(url, UriKind.Absolute, out var uri))
            data.TryAdd("request_url_domain", uri.Host);
        var body = await templates.RenderSmsAsync(type, data, ct, Language);
        return await InsertAsync("sms", recipient, "", body, null, type, data, deliver, ct);
    }

    /// <summary>Queues a message on <paramref name="channel"/> (<c>email</c> or <c>sms</c>), by the channel's own rules.</summary>
    public Task<CourierMessage> QueueAsync(string channel, string templateType, string recipient, JsonObject model, CancellationToken ct, bool deliver = true) =>
        channel == "sms" ? QueueSmsAsync(templateType, recipient, model, ct, deliver) : QueueEmailAsync(templateType, recipient, model, ct, deliver);

    private async Task<CourierMessage> InsertAsync(string channel, string recipient, string subject, string body, string? htmlBody,
        CourierTemplateType type, JsonObject data, bool deliver, CancellationToken ct)
    {
        var now = CourierClock.Now(time);
        var message = new CourierMessage
        {
            Id = Guid.CreateVersion7(),
            Nid = db.Nid,
            Status = CourierMessageStatus.Queued,
            Type = channel,
            Channel = channel,
            Recipient = recipient,
            Subject = subject,
            Body = body,
            HtmlBody = htmlBody,
            TemplateType = type.Name,
            TemplateData = data.ToJsonString(),
            RequestHeaders = WithRequestHeaders.Contains(type.Name) && http?.HttpContext is { } context
                ? Http.Outbound.GoHeaderKey.Allowlisted(context.Request, options?.Clients.WebHook.HeaderAllowlist ?? Http.Outbound.WebHookConfig.DefaultHeaderAllowlist).ToJsonString()
                : null,
            SendCount = 0,
            NextAttemptAt = now,
            CreatedAt = now,
            UpdatedAt = now,
        };
        // Kept prepared on SQLite (RawSql): every code and link mailed runs it. Held for the commit of a flow submit's unit of
        // work when one is open (the mail lands with its code and flow, or not at all).
        await RawSql.WriteAsync(db, $"""
            INSERT INTO courier_messages ("Id", "Nid", "Status", "Type", "Channel", "Recipient", "Subject", "Body", "HtmlBody",
                "TemplateType", "TemplateData", "RequestHeaders", "SendCount", "NextAttemptAt", "CreatedAt", "UpdatedAt")
            SELECT {message.Id}, {message.Nid}, {message.Status}, {message.Type}, {message.Channel}, {message.Recipient},
                {message.Subject}, {message.Body}, {message.HtmlBody}, {message.TemplateType}, {message.TemplateData}, {message.RequestHeaders},
                {message.SendCount}, {message.NextAttemptAt}, {message.CreatedAt}, {message.UpdatedAt}
            WHERE {deliver}
            """, ct);
        return message;
    }
}
