using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.OAuth2;
using Gatehouse.OAuth2.Clients;
using Gatehouse.OAuth2.Device;
using Gatehouse.SelfService.Csrf;
using Gatehouse.SelfService.Flows;

namespace Gatehouse.Ui;

/// <summary>
/// <c>GET|POST /ui/device</c> and <c>GET /ui/device/done</c>: the built-in user-code page of the device authorization
/// grant (Hydra's <c>urls.device.verification</c> app, in the server), used when <c>urls.device.verification</c> is not
/// set. The user types the code the device shows; the page accepts it for the device challenge as a custom page would
/// through <c>acceptUserCodeRequest</c>, and the browser goes on to Gatehouse's login and consent. The form is
/// CSRF-protected like the flows' forms and works without JavaScript; wrong codes are counted per device challenge.
/// </summary>
public sealed partial class DevicePage(DeviceFlowService devices, OAuth2ClientService clients, CsrfTokens csrf, UiErrorPage errors, OAuth2Settings settings,
    GatehouseOptions options, ILogger<DevicePage> logger)
{
    private readonly string _publicBase = ReturnUrlPolicy.PublicBaseUrl(options).TrimEnd('/');

    public async Task ShowAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var challenge = http.Request.Query["device_challenge"].ToString();
        if (challenge.Length == 0)
        {
            // Opened directly: start at the verification endpoint, which makes the device challenge for this browser.
            var start = settings.Endpoint(DeviceEndpoints.Verify);
            if (http.Request.Query["user_code"] is { Count: > 0 } code) start = OAuth2.Flows.LoginConsentService.WithQuery(start, "user_code", code.ToString());
            FlowService.Redirect(http, start);
            return;
        }
        await WriteFormAsync(http, 200, challenge, http.Request.Query["user_code"].ToString(), null);
    }

    public async Task SubmitAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (await CheckedForm.ReadAsync(http, csrf, errors, "device") is not { } form) return;
        var challenge = form["device_challenge"].ToString();
        // People type codes with spaces or in another case than shown; Hydra compares the code exactly, so only spaces go.
        var userCode = new string([.. form["user_code"].ToString().Where(c => !char.IsWhiteSpace(c))]);
        var text = UiText.For(http.Request);
        if (userCode.Length == 0)
        {
            await WriteFormAsync(http, 400, challenge, "", text["device.missing"]);
            return;
        }
        try
        {
            var answer = await devices.AcceptUserCodeAsync(challenge, new JsonObject { ["user_code"] = userCode }, http.RequestAborted);
            FlowService.Redirect(http, answer.Body["redirect_to"]!.GetValue<string>());
        }
        catch (OAuth2Error e) when (e.StatusCode is 401 or 404)
        {
            await errors.WriteAsync(http, e.StatusCode, e.Error, text["device.expired"], null);
        }
        catch (OAuth2Error e) when (e.StatusCode == 400)
        {
            var tooMany = e.FullDescription.Contains("Too many", StringComparison.Ordinal);
            await WriteFormAsync(http, tooMany ? 429 : 400, challenge, userCode, tooMany ? text["device.too_many"] : text["device.invalid"], disabled: tooMany);
        }
        catch (OAuth2Error e)
        {
            LogDeviceFailed(logger, e.FullDescription);
            await errors.WriteAsync(http, 500, e.Error, e.FullDescription, null);
        }
    }

    /// <summary><c>urls.device.success</c>'s built-in page: the device is connected.</summary>
    public async Task DoneAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var text = UiText.For(http.Request);
        var clientId = http.Request.Query["client_id"].ToString();
        var client = clientId.Length is > 0 and <= 255 ? await clients.FindAsync(clientId, http.RequestAborted) : null;
        var name = client is null ? null : client.ToJson()["client_name"] is JsonValue v && v.TryGetValue<string>(out var n) && n.Length > 0 ? n : client.ClientId;
        var html = new HtmlWriter();
        if (name is not null) html.Open("p", Attr.Of("class", "lead")).Element("strong", name).Text(" " + text["device.done.client"]).Close("p");
        html.Element("p", text["device.done.text"], Attr.Of("role", "status"));
        await UiLayout.WriteAsync(http, 200, text, _publicBase, text["device.done.title"], html.ToString());
    }

    private async Task WriteFormAsync(HttpContext http, int status, string challenge, string userCode, string? error, bool disabled = false)
    {
        var text = UiText.For(http.Request);
        var html = new HtmlWriter();
        html.Element("p", text["device.intro"], Attr.Of("class", "lead"));
        html.Open("form", Attr.Of("action", _publicBase + OAuth2Settings.BuiltInDevicePath), Attr.Of("method", "POST"), Attr.Of("class", "flow-form"));
        if (error is not null)
        {
            html.Open("div", Attr.Of("class", "messages flow-messages"), Attr.Of("id", "flow-messages"));
            html.Element("p", error, Attr.Of("class", "message message-error"), Attr.Of("role", "alert"));
            html.Close("div");
        }
        html.Void("input", Attr.Of("type", "hidden"), Attr.Of("name", "csrf_token"), Attr.Of("value", csrf.Ensure(http)));
        html.Void("input", Attr.Of("type", "hidden"), Attr.Of("name", "device_challenge"), Attr.Of("value", challenge));
        html.Open("div", Attr.Of("class", "field"));
        html.Element("label", text["device.user_code"], Attr.Of("for", "user_code"));
        html.Void("input", Attr.Of("id", "user_code"), Attr.Of("type", "text"), Attr.Of("name", "user_code"), Attr.Of("value", userCode),
            Attr.Flag("required", true), Attr.Flag("autofocus", true), Attr.Of("autocomplete", "one-time-code"), Attr.Of("autocapitalize", "none"),
            Attr.Of("spellcheck", "false"), Attr.Of("maxlength", "64"), Attr.Of("aria-invalid", error is null ? null : "true"),
            Attr.Of("aria-describedby", error is null ? null : "flow-messages"), Attr.Flag("disabled", disabled));
        html.Close("div");
        html.Element("button", text["device.submit"], Attr.Of("type", "submit"), Attr.Flag("disabled", disabled));
        html.Close("form");
        await UiLayout.WriteAsync(http, status, text, _publicBase, text["device.title"], html.ToString());
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The built-in device page could not accept a user code: {Reason}")]
    private static partial void LogDeviceFailed(ILogger logger, string reason);
}
