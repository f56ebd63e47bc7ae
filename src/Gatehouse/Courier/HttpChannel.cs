using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http.Outbound;
using Gatehouse.Jsonnet;

namespace Gatehouse.Courier;

/// <summary>
/// The courier's HTTP channels (Kratos's <c>courier/http_channel.go</c>): <c>courier.channels</c> entries of type
/// <c>http</c>, by id (<c>sms</c>), and the <c>email</c> channel when <c>courier.delivery_strategy</c> is <c>http</c>
/// (<c>courier.http.request_config</c>; Kratos's <c>Config.CourierChannels</c> adds it after the configured channels). A
/// message is sent as the request <c>request_config</c> describes — the body is its Jsonnet template called with <c>ctx</c> =
/// <c>{recipient, subject, body, html_body (e-mail with an HTML part), template_type, template_data, message_type,
/// request_headers}</c> (<c>template_data</c> is the template's model: <c>to</c>, <c>login_code</c>, <c>identity</c>, …) —
/// and counts as delivered on a 2xx answer; anything else is a failed attempt the worker retries. Redirects are not
/// followed; the answer is read up to 1 KiB and never logged; auth secrets are never logged.
/// </summary>
public sealed class HttpChannel(GatehouseOptions options, WebHookSender sender, WebHookTemplates templates)
{
    private const int MaxAnswerBytes = 1024;

    /// <summary>
    /// The body of an e-mail request whose <c>courier.http.request_config</c> names none: the fields of Kratos's default
    /// (its config schema's <c>courier.http.request_config.body</c>): <c>recipient</c>, <c>template_type</c>, <c>to</c>,
    /// <c>recovery_code</c>, <c>recovery_url</c>, <c>verification_url</c>, <c>verification_code</c> (null when the template
    /// has none), <c>subject</c>, <c>body</c>.
    /// </summary>
    public static readonly string DefaultEmailBody = "base64://" + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("""
        function(ctx) {
          local data = if "template_data" in ctx && ctx.template_data != null then ctx.template_data else {},
          local field(name) = if name in data then data[name] else null,
          recipient: ctx.recipient,
          template_type: ctx.template_type,
          to: field("to"),
          recovery_code: field("recovery_code"),
          recovery_url: field("recovery_url"),
          verification_url: field("verification_url"),
          verification_code: field("verification_code"),
          subject: ctx.subject,
          body: ctx.body,
        }
        """));

    private readonly Dictionary<string, WebHookConfig> _channels = Read(options);

    /// <summary>Whether a channel with this id (<c>sms</c>, <c>email</c>) is configured.</summary>
    public bool Has(string id) => _channels.ContainsKey(id);

    /// <summary>Reads and checks <c>courier.channels</c> and <c>courier.http</c> (start-up: a wrong entry names its key).</summary>
    public static Dictionary<string, WebHookConfig> Read(GatehouseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var channels = new Dictionary<string, WebHookConfig>(StringComparer.Ordinal);
        for (var i = 0; i < options.Courier.Channels.Count; i++)
        {
            var channel = options.Courier.Channels[i];
            var at = $"courier.channels[{i}]";
            if (channel.Id != "sms") throw new ConfigException($"{at}.id: only \"sms\" is supported (as in Kratos), got \"{channel.Id}\".");
            if (channel.Type != "http") throw new ConfigException($"{at}.type: only \"http\" is supported (as in Kratos), got \"{channel.Type}\".");
            if (channels.ContainsKey(channel.Id)) throw new ConfigException($"{at}.id: the channel \"{channel.Id}\" is configured twice.");
            channels[channel.Id] = ReadRequestConfig(channel.RequestConfig, at);
        }
        switch (options.Courier.DeliveryStrategy)
        {
            case "smtp":
                break;
            case "http":
                var email = ReadRequestConfig(options.Courier.Http.RequestConfig, "courier.http");
                channels["email"] = email.Body is null ? email with { Body = DefaultEmailBody } : email;
                break;
            default:
                throw new ConfigException($"courier.delivery_strategy: expected \"smtp\" or \"http\", got \"{options.Courier.DeliveryStrategy}\".");
        }
        return channels;
    }

    private static WebHookConfig ReadRequestConfig(System.Text.Json.Nodes.JsonObject? requestConfig, string at)
    {
        if (requestConfig is null) throw new ConfigException($"{at}.request_config: required (url, and optionally method, headers, body, auth).");
        foreach (var (key, _) in requestConfig)
        {
            if (key is not ("url" or "method" or "headers" or "body" or "auth"))
                throw new ConfigException($"{at}.request_config.{key}: unknown key; expected url, method, headers, body or auth.");
        }
        return WebHookConfig.Read(requestConfig, at, "request_config");
    }

    /// <summary>Sends <paramref name="message"/> over the channel named by its <c>Channel</c>; throws when that fails.</summary>
    public async Task SendAsync(CourierMessage message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        // Kratos's span around an HTTP channel's dispatch; its error status is the delivery's error (otelx.End).
        using var span = CourierTracing.Source.StartActivity(CourierTracing.HttpChannelDispatch);
        try
        {
            await DispatchAsync(message, ct);
        }
        catch (Exception e) when (span is { IsAllDataRequested: true })
        {
            span.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Message);
            throw;
        }
    }

    private async Task DispatchAsync(CourierMessage message, CancellationToken ct)
    {
        if (!_channels.TryGetValue(message.Channel, out var config))
            throw new InvalidOperationException($"no courier channel \"{message.Channel}\" is configured (courier.channels)");
        string? body = null;
        // Kratos (request.Builder.BuildRequest): every method but TRACE carries the rendered template, GET, HEAD and DELETE
        // too; without a template the delivery fails ("got empty template path for request with body").
        if (config.SendsBody)
        {
            var location = config.Body
                ?? throw new InvalidOperationException($"the courier channel \"{message.Channel}\" has no body template (request_config.body); every method but TRACE needs one");
            var context = new JsonObject
            {
                ["recipient"] = message.Recipient,
                ["subject"] = message.Subject,
                ["body"] = message.Body,
                ["template_type"] = message.TemplateType,
                ["template_data"] = JsonNode.Parse(message.TemplateData ?? "{}"),
                ["message_type"] = message.Type,
                // Kratos's QueueEmail/QueueSMS store {} for templates that carry no request headers.
                ["request_headers"] = message.RequestHeaders is { } headers ? JsonNode.Parse(headers) : new JsonObject(),
            };
            // Kratos (httpChannel.tryPopulateHTMLBody, html_body omitempty): an e-mail's HTML part, absent when there is none.
            if (message.Type == "email" && !string.IsNullOrEmpty(message.HtmlBody)) context["html_body"] = message.HtmlBody;
            var program = await templates.GetAsync(location, ct);
            try
            {
                body = program.Evaluate(WebHookTemplates.Limits(context.ToJsonString()));
            }
            catch (JsonnetException e)
            {
                throw new InvalidOperationException($"the courier channel's body template failed: {e.Message}", e);
            }
        }
        var answer = await sender.SendAsync(config, body, requestId: null, triggerId: null, ct, maxAnswerBytes: MaxAnswerBytes);
        if (answer.Status is < 200 or >= 300)
            throw new InvalidOperationException($"the courier channel's server answered with status code {answer.Status}");
    }
}
