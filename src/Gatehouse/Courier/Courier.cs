using System.Text.Json.Nodes;
using Gatehouse.Courier.Templates;
using Gatehouse.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Courier;

/// <summary>
/// What flows call to send a message: renders the template and stores the message as <c>queued</c>; a
/// <see cref="CourierWorker"/> delivers it later. Nothing is sent inline.
/// </summary>
public sealed class Courier(GatehouseDbContext db, CourierTemplates templates, TimeProvider time)
{
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
        var data = (JsonObject)model.DeepClone();
        data.TryAdd("to", recipient);
        var email = await templates.RenderEmailAsync(type, data, ct);
        var now = CourierClock.Now(time);
        var message = new CourierMessage
        {
            Id = Guid.CreateVersion7(),
            Nid = db.Nid,
            Status = CourierMessageStatus.Queued,
            Type = "email",
            Channel = "email",
            Recipient = recipient,
            Subject = email.Subject,
            Body = email.Body,
            HtmlBody = email.HtmlBody,
            TemplateType = type.Name,
            TemplateData = data.ToJsonString(),
            SendCount = 0,
            NextAttemptAt = now,
            CreatedAt = now,
            UpdatedAt = now,
        };
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO courier_messages ("Id", "Nid", "Status", "Type", "Channel", "Recipient", "Subject", "Body", "HtmlBody",
                "TemplateType", "TemplateData", "SendCount", "NextAttemptAt", "CreatedAt", "UpdatedAt")
            SELECT {message.Id}, {message.Nid}, {message.Status}, {message.Type}, {message.Channel}, {message.Recipient},
                {message.Subject}, {message.Body}, {message.HtmlBody}, {message.TemplateType}, {message.TemplateData},
                {message.SendCount}, {message.NextAttemptAt}, {message.CreatedAt}, {message.UpdatedAt}
            WHERE {deliver}
            """, ct);
        return message;
    }
}
