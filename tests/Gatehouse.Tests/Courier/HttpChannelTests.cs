using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Courier;
using Gatehouse.Courier.Templates;
using Gatehouse.Tests.Config;

namespace Gatehouse.Tests.Courier;

/// <summary>
/// <c>courier.channels</c> as Kratos has it (only <c>{id: sms, type: http, request_config}</c>), read from YAML and checked
/// at start-up with messages naming the key; the SMS texts (built-in for the one-time codes, overridable per template).
/// </summary>
public sealed class HttpChannelTests : IDisposable
{
    private readonly ConfigFiles _files = new();

    public void Dispose() => _files.Dispose();

    private GatehouseOptions Load(string yaml) =>
        ConfigLoader.Load([_files.Write("kratos.yml", "dsn: memory\n" + yaml)], new Dictionary<string, string?>(), dev: false).Options;

    [Fact]
    public void The_sms_channel_is_read_from_the_yaml_keys_kratos_uses()
    {
        var options = Load("""
            courier:
              channels:
                - id: sms
                  type: http
                  request_config:
                    url: https://sms.example.com/send
                    method: PUT
                    headers:
                      X-Account: acme
                    body: base64://ZnVuY3Rpb24oY3R4KSB7IHRvOiBjdHgucmVjaXBpZW50IH0=
                    auth:
                      type: api_key
                      config:
                        name: X-Api-Key
                        value: secret-key
                        in: header
              templates:
                login_code:
                  valid:
                    email:
                      body:
                        plaintext: base64://e3sgLkxvZ2luQ29kZSB9fQ==
                    sms:
                      body:
                        plaintext: base64://e3sgLkxvZ2luQ29kZSB9fQ==
            """);
        var channels = HttpChannel.Read(options);
        var sms = channels["sms"];
        Assert.Equal(new Uri("https://sms.example.com/send"), sms.Url);
        Assert.Equal(HttpMethod.Put, sms.Method);
        Assert.Equal("acme", sms.Headers["X-Account"]);
        Assert.Equal(new Gatehouse.Http.Outbound.WebHookAuth.ApiKey("X-Api-Key", "secret-key", InCookie: false), sms.Auth);
        Assert.Equal("base64://e3sgLkxvZ2luQ29kZSB9fQ==", options.Courier.Templates["login_code"].Valid!.Sms!.Body!.Plaintext);
    }

    [Theory]
    [InlineData("- id: email\n  type: http\n  request_config: { url: https://x.example.com }", "courier.channels[0].id")]
    [InlineData("- id: sms\n  type: smtp\n  request_config: { url: https://x.example.com }", "courier.channels[0].type")]
    [InlineData("- id: sms\n  type: http", "courier.channels[0].request_config")]
    [InlineData("- id: sms\n  request_config: { url: ftp://x.example.com }", "courier.channels[0].request_config.url")]
    [InlineData("- id: sms\n  request_config: { url: https://x.example.com }\n- id: sms\n  request_config: { url: https://y.example.com }", "courier.channels[1].id")]
    public void A_wrong_channel_is_refused_naming_its_key(string channels, string key)
    {
        var options = new GatehouseOptions();
        // Bound as the loader binds YAML, then checked as the server checks it at start-up (the schema may catch it first).
        try
        {
            options = Load("courier:\n  channels:\n" + string.Join('\n', channels.Split('\n').Select(l => "    " + l)) + "\n");
        }
        catch (ConfigException e)
        {
            Assert.Contains(key.Split('[')[0], e.Message, StringComparison.Ordinal);
            return;
        }
        var error = Assert.Throws<ConfigException>(() => HttpChannel.Read(options));
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_code_templates_have_sms_texts_with_the_webotp_line_and_overrides_replace_them()
    {
        var options = new GatehouseOptions();
        using var builtin = new CourierTemplates(options);
        var model = new JsonObject { ["to"] = "+4917612345678", ["login_code"] = "123456", ["expires_in_minutes"] = 15, ["request_url_domain"] = "auth.example.com" };
        var text = await builtin.RenderSmsAsync(CourierTemplateType.LoginCodeValid, model, CancellationToken.None);
        Assert.Equal("123456 is your sign-in code. It expires in 15 minutes.\n\n@auth.example.com #123456\n", text);
        Assert.Contains("654321 is your verification code", await builtin.RenderSmsAsync(CourierTemplateType.VerificationCodeValid,
            new JsonObject { ["verification_code"] = "654321" }, CancellationToken.None), StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => builtin.RenderSmsAsync(CourierTemplateType.RecoveryValid, model, CancellationToken.None));

        options.Courier.Templates["login_code"] = new CourierTemplateSetOptions
        {
            Valid = new CourierTemplateOptions { Sms = new SmsTemplateOptions { Body = new SmsBodyTemplateOptions { Plaintext = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes("Code: {{ .LoginCode }} for {{ .To }}")) } } },
        };
        using var overridden = new CourierTemplates(options);
        Assert.Equal("Code: 123456 for +4917612345678", await overridden.RenderSmsAsync(CourierTemplateType.LoginCodeValid, model, CancellationToken.None));
    }
}

/// <summary>The built-in texts in German: every template type renders (no English left in them), and the code types' SMS.</summary>
public sealed class GermanTemplatesTests
{
    [Fact]
    public async Task Every_built_in_template_has_a_german_text()
    {
        using var templates = new CourierTemplates(new GatehouseOptions());
        var model = new JsonObject
        {
            ["to"] = "ada@example.com", ["recovery_code"] = "111111", ["recovery_url"] = "https://auth.example.com/r", ["verification_code"] = "222222",
            ["verification_url"] = "https://auth.example.com/v", ["login_code"] = "333333", ["registration_code"] = "444444",
        };
        foreach (var type in CourierTemplateType.All)
        {
            var en = await templates.RenderEmailAsync(type, model, CancellationToken.None);
            var de = await templates.RenderEmailAsync(type, model, CancellationToken.None, "de");
            Assert.NotEqual(en.Subject, de.Subject);
            Assert.StartsWith("Hallo,", de.Body, StringComparison.Ordinal);
            Assert.StartsWith("<p>Hallo,</p>", de.HtmlBody, StringComparison.Ordinal);
            Assert.DoesNotContain("Hi,", de.Body, StringComparison.Ordinal);
        }
        var login = await templates.RenderEmailAsync(CourierTemplateType.LoginCodeValid, model, CancellationToken.None, "de");
        Assert.Equal(("Anmeldung bei Ihrem Konto", "Hallo,\n\nUm sich anzumelden, geben Sie diesen Code ein:\n\n333333\n"), (login.Subject, login.Body));
        var registration = await templates.RenderEmailAsync(CourierTemplateType.RegistrationCodeValid, model, CancellationToken.None, "de");
        Assert.Equal("Schließen Sie Ihre Registrierung ab", registration.Subject);
        Assert.Contains("<strong>444444</strong>", registration.HtmlBody, StringComparison.Ordinal);
        Assert.Equal("444444 ist Ihr Registrierungscode. Er ist 15 Minuten gültig.\n",
            await templates.RenderSmsAsync(CourierTemplateType.RegistrationCodeValid, new JsonObject { ["registration_code"] = "444444", ["expires_in_minutes"] = 15 }, CancellationToken.None, "de"));
        // An unknown language gets English; a configured template is used whatever the language.
        Assert.Equal("Login to your account", (await templates.RenderEmailAsync(CourierTemplateType.LoginCodeValid, model, CancellationToken.None, "fr")).Subject);
    }
}
