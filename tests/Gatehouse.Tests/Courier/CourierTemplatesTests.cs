using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Courier.Templates;

namespace Gatehouse.Tests.Courier;

public sealed class CourierTemplatesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gatehouse-templates-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonObject Model() => new()
    {
        ["to"] = "ada@example.com",
        ["verification_code"] = "714523",
        ["verification_url"] = "https://app.example/verify?flow=1&code=714523",
        ["recovery_code"] = "308812",
        ["recovery_url"] = "https://app.example/recover?flow=2&token=abc",
        ["login_code"] = "551902",
        ["registration_code"] = "660174",
        ["identity"] = new JsonObject { ["id"] = "9f1c", ["traits"] = new JsonObject { ["email"] = "ada@example.com", ["name"] = "Ada" } },
    };

    private static CourierTemplates Templates(Action<CourierOptions>? configure = null, bool disallowPrivateIpRanges = false)
    {
        var options = new GatehouseOptions();
        options.Clients.Http.DisallowPrivateIpRanges = disallowPrivateIpRanges;
        configure?.Invoke(options.Courier);
        return new CourierTemplates(options);
    }

    [Fact]
    public async Task Template_urls_are_fetched_under_the_outbound_address_rules()
    {
        // Kratos's courier/template/load_template.go fetches with d.HTTPClient(ctx): ory/x refuses 0.0.0.0/8 by default
        // (on Linux it reaches loopback) and, with clients.http.disallow_private_ip_ranges, loopback too.
        var port = Gatehouse.Tests.Infrastructure.TestServer.FreePort();
        using var open = Templates(c => c.Templates["recovery_code"] = new CourierTemplateSetOptions
        {
            Valid = new CourierTemplateOptions { Email = new EmailTemplateOptions { Subject = $"http://0.0.0.0:{port}/subject" } },
        });
        var special = await Assert.ThrowsAsync<HttpRequestException>(() => open.RenderEmailAsync(CourierTemplateType.RecoveryCodeValid, Model(), CancellationToken.None));
        Assert.Contains("0.0.0.0 is not a permitted destination", special.Message, StringComparison.Ordinal);
        using var guarded = Templates(c => c.Templates["recovery_code"] = new CourierTemplateSetOptions
        {
            Valid = new CourierTemplateOptions { Email = new EmailTemplateOptions { Subject = $"http://127.0.0.1:{port}/subject" } },
        }, disallowPrivateIpRanges: true);
        var loopback = await Assert.ThrowsAsync<HttpRequestException>(() => guarded.RenderEmailAsync(CourierTemplateType.RecoveryCodeValid, Model(), CancellationToken.None));
        Assert.Contains("127.0.0.1 is not a permitted destination (clients.http.disallow_private_ip_ranges)", loopback.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("verification_code_valid", "714523")]
    [InlineData("verification_valid", "https://app.example/verify?flow=1&code=714523")]
    [InlineData("recovery_code_valid", "308812")]
    [InlineData("recovery_valid", "https://app.example/recover?flow=2&token=abc")]
    [InlineData("login_code_valid", "551902")]
    [InlineData("registration_code_valid", "660174")]
    public async Task Every_valid_built_in_template_renders_its_code_or_link_in_both_bodies(string type, string secret)
    {
        using var templates = Templates();
        var email = await templates.RenderEmailAsync(CourierTemplateType.Parse(type), Model(), CancellationToken.None);
        Assert.NotEmpty(email.Subject);
        Assert.DoesNotContain('\n', email.Subject);
        Assert.Contains(secret, email.Body, StringComparison.Ordinal);
        // The HTML body is HTML-encoded (& → &amp;), the plain-text body is not.
        Assert.Contains(secret.Replace("&", "&amp;", StringComparison.Ordinal), email.HtmlBody, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("verification_invalid")]
    [InlineData("verification_code_invalid")]
    [InlineData("recovery_invalid")]
    [InlineData("recovery_code_invalid")]
    public async Task Every_invalid_built_in_template_renders_without_codes(string type)
    {
        using var templates = Templates();
        var email = await templates.RenderEmailAsync(CourierTemplateType.Parse(type), new JsonObject { ["to"] = "ada@example.com" }, CancellationToken.None);
        Assert.NotEmpty(email.Subject);
        Assert.Contains("not linked to any account", email.Body, StringComparison.Ordinal);
        Assert.Contains("<p>", email.HtmlBody, StringComparison.Ordinal);
    }

    /// <summary>The ones Kratos sends by e-mail, and the address-change notice of its later releases (notify_previous_addresses).</summary>
    [Fact]
    public void The_built_in_types_are_exactly_the_ones_kratos_sends_by_email()
    {
        Assert.Equal(
            ["recovery_valid", "recovery_invalid", "recovery_code_valid", "recovery_code_invalid", "verification_valid", "verification_invalid",
             "verification_code_valid", "verification_code_invalid", "login_code_valid", "registration_code_valid", "verifiable_address_changed"],
            CourierTemplateType.All.Select(t => t.Name));
        Assert.Throws<ArgumentException>(() => CourierTemplateType.Parse("stub"));
    }

    /// <summary>
    /// <c>verifiable_address_changed</c> has no valid/invalid level: <c>courier.templates.verifiable_address_changed.{email,sms}</c>
    /// and <c>&lt;template_override_path&gt;/verifiable_address_changed/…</c>, as Kratos's schema and folders name it.
    /// </summary>
    [Fact]
    public async Task The_address_change_notice_is_overridden_without_a_variant_level()
    {
        static string B64(string s) => "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
        var dir = Directory.CreateDirectory(Path.Combine(_dir, "verifiable_address_changed")).FullName;
        await File.WriteAllTextAsync(Path.Combine(dir, "email.body.plaintext.gotmpl"), "Changed on {{ .ChangedAt }} for {{ .Identity.traits.name }}");
        var model = new JsonObject { ["to"] = "old@example.com", ["changed_at"] = "2026-12-07T18:00:00Z", ["identity"] = Model()["identity"]!.DeepClone() };

        using var builtIn = Templates();
        var standard = await builtIn.RenderEmailAsync(CourierTemplateType.VerifiableAddressChanged, model, CancellationToken.None);
        Assert.Equal("An email address or phone number of your account changed", standard.Subject);
        Assert.Contains("was changed at 2026-12-07T18:00:00Z.", standard.Body, StringComparison.Ordinal);
        Assert.StartsWith("An email address or phone number of your account was changed.", await builtIn.RenderSmsAsync(CourierTemplateType.VerifiableAddressChanged, model, CancellationToken.None), StringComparison.Ordinal);

        using var templates = Templates(c =>
        {
            c.TemplateOverridePath = _dir;
            c.Templates["verifiable_address_changed"] = new CourierTemplateSetOptions
            {
                Email = new EmailTemplateOptions { Subject = B64("Heads up, {{ .To }}") },
                Sms = new SmsTemplateOptions { Body = new SmsBodyTemplateOptions { Plaintext = B64("Changed: {{ .ChangedAt }}") } },
            };
        });
        var email = await templates.RenderEmailAsync(CourierTemplateType.VerifiableAddressChanged, model, CancellationToken.None);
        Assert.Equal("Heads up, old@example.com", email.Subject);
        Assert.Equal("Changed on 2026-12-07T18:00:00Z for Ada", email.Body);
        Assert.Equal("Changed: 2026-12-07T18:00:00Z", await templates.RenderSmsAsync(CourierTemplateType.VerifiableAddressChanged, model, CancellationToken.None));
    }

    [Fact]
    public async Task A_base64_override_in_kratos_go_syntax_replaces_the_built_in_part()
    {
        static string B64(string s) => "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
        using var templates = Templates(c => c.Templates["verification_code"] = new CourierTemplateSetOptions
        {
            Valid = new CourierTemplateOptions
            {
                Email = new EmailTemplateOptions
                {
                    Subject = B64("Your code for {{ .Identity.traits.name }}\n"),
                    Body = new EmailBodyTemplateOptions { Plaintext = B64("{{- if .VerificationCode -}}Code: {{ .VerificationCode }}{{ else }}none{{ end }} to {{ .To }}") },
                },
            },
        });
        var email = await templates.RenderEmailAsync(CourierTemplateType.VerificationCodeValid, Model(), CancellationToken.None);
        Assert.Equal("Your code for Ada", email.Subject);
        Assert.Equal("Code: 714523 to ada@example.com", email.Body);
        // Parts without an override keep the built-in text.
        Assert.Contains("<strong>714523</strong>", email.HtmlBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_override_in_liquid_syntax_replaces_the_html_body()
    {
        var path = Path.Combine(_dir, "body.html");
        await File.WriteAllTextAsync(path, "<a href=\"{{ RecoveryURL }}\">reset</a> {{ recovery_url | size }}");
        using var templates = Templates(c => c.Templates["recovery"] = new CourierTemplateSetOptions
        {
            Valid = new CourierTemplateOptions { Email = new EmailTemplateOptions { Body = new EmailBodyTemplateOptions { Html = "file://" + path } } },
        });
        var email = await templates.RenderEmailAsync(CourierTemplateType.RecoveryValid, Model(), CancellationToken.None);
        Assert.Equal("<a href=\"https://app.example/recover?flow=2&amp;token=abc\">reset</a> 44", email.HtmlBody);
        Assert.Contains("https://app.example/recover?flow=2&token=abc", email.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_http_template_url_is_fetched_once_and_cached()
    {
        // A Kestrel receiver on a port of its own choosing (an HttpListener needs a port picked beforehand, which a
        // parallel test could take in between).
        await using var server = await Gatehouse.Tests.Hooks.HookReceiver.StartAsync();
        var subject = server.On("/subject", 200, "Code {{ .RecoveryCode }}");
        var gone = server.On("/gone", 404, "missing");
        using var templates = Templates(c => c.Templates["recovery_code"] = new CourierTemplateSetOptions
        {
            Valid = new CourierTemplateOptions { Email = new EmailTemplateOptions { Subject = subject } },
            Invalid = new CourierTemplateOptions { Email = new EmailTemplateOptions { Subject = gone } },
        });
        Assert.Equal("Code 308812", (await templates.RenderEmailAsync(CourierTemplateType.RecoveryCodeValid, Model(), CancellationToken.None)).Subject);
        Assert.Equal("Code 308812", (await templates.RenderEmailAsync(CourierTemplateType.RecoveryCodeValid, Model(), CancellationToken.None)).Subject);
        Assert.Single(server.Received("/subject"));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => templates.RenderEmailAsync(CourierTemplateType.RecoveryCodeInvalid, Model(), CancellationToken.None));
        Assert.Contains("answered 404", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Template_override_path_is_read_with_kratos_file_names_and_config_urls_win_over_it()
    {
        var dir = Directory.CreateDirectory(Path.Combine(_dir, "login_code", "valid")).FullName;
        await File.WriteAllTextAsync(Path.Combine(dir, "email.subject.gotmpl"), "Sign-in code\n");
        await File.WriteAllTextAsync(Path.Combine(dir, "email.body.gotmpl"), "<b>{{ .LoginCode }}</b>");
        await File.WriteAllTextAsync(Path.Combine(dir, "email.body.plaintext.gotmpl"), "code {{ .LoginCode }}");
        using var templates = Templates(c =>
        {
            c.TemplateOverridePath = _dir;
            c.Templates["login_code"] = new CourierTemplateSetOptions
            {
                Valid = new CourierTemplateOptions { Email = new EmailTemplateOptions { Subject = "base64://" + Convert.ToBase64String("From config"u8.ToArray()) } },
            };
        });
        var email = await templates.RenderEmailAsync(CourierTemplateType.LoginCodeValid, Model(), CancellationToken.None);
        Assert.Equal("From config", email.Subject);
        Assert.Equal("<b>551902</b>", email.HtmlBody);
        Assert.Equal("code 551902", email.Body);
        // Types without files in the directory fall back to the built-in templates.
        var other = await templates.RenderEmailAsync(CourierTemplateType.RegistrationCodeValid, Model(), CancellationToken.None);
        Assert.Contains("660174", other.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Templates_cannot_include_files()
    {
        var secret = Path.Combine(_dir, "secret.liquid");
        await File.WriteAllTextAsync(secret, "TOP SECRET");
        using var templates = Templates(c => c.Templates["login_code"] = new CourierTemplateSetOptions
        {
            Valid = new CourierTemplateOptions
            {
                Email = new EmailTemplateOptions
                {
                    Body = new EmailBodyTemplateOptions { Plaintext = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes($"x{{% include '{secret}' %}}y")) },
                },
            },
        });
        var rendered = await Record.ExceptionAsync(() => templates.RenderEmailAsync(CourierTemplateType.LoginCodeValid, Model(), CancellationToken.None));
        if (rendered is null)
        {
            var email = await templates.RenderEmailAsync(CourierTemplateType.LoginCodeValid, Model(), CancellationToken.None);
            Assert.DoesNotContain("TOP SECRET", email.Body, StringComparison.Ordinal);
        }
        else
        {
            Assert.DoesNotContain("TOP SECRET", rendered.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_template_that_does_not_parse_or_cannot_be_loaded_is_reported_with_its_origin()
    {
        using var broken = Templates(c => c.Templates["recovery_code"] = new CourierTemplateSetOptions
        {
            Invalid = new CourierTemplateOptions { Email = new EmailTemplateOptions { Subject = "base64://" + Convert.ToBase64String("{% if %}"u8.ToArray()) } },
        });
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => broken.ValidateAsync(CancellationToken.None));
        Assert.Contains("recovery_code_invalid", error.Message, StringComparison.Ordinal);
        Assert.Contains("courier.templates.recovery_code.invalid.email.subject", error.Message, StringComparison.Ordinal);

        using var missing = Templates(c => c.Templates["recovery_code"] = new CourierTemplateSetOptions
        {
            Valid = new CourierTemplateOptions { Email = new EmailTemplateOptions { Subject = "file://" + Path.Combine(_dir, "nope.gotmpl") } },
        });
        error = await Assert.ThrowsAsync<InvalidOperationException>(() => missing.ValidateAsync(CancellationToken.None));
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Hi {{ .To }}", "Hi {{ To }}")]
    [InlineData("{{- .Identity.traits.email -}}", "{{- Identity.traits.email -}}")]
    [InlineData("{{ if .RecoveryCode }}a{{ else }}b{{ end }}", "{% if RecoveryCode %}a{% else %}b{% endif %}")]
    [InlineData("{{/* note */}}x", "x")]
    [InlineData("{{ VerificationCode | upcase }}", "{{ VerificationCode | upcase }}")]
    public void Go_template_forms_translate_to_liquid(string go, string liquid) =>
        Assert.Equal(liquid, GoTemplateSyntax.ToLiquid(go));

    [Theory]
    [InlineData("verification_url", "VerificationURL")]
    [InlineData("recovery_code", "RecoveryCode")]
    [InlineData("expires_in_minutes", "ExpiresInMinutes")]
    [InlineData("to", "To")]
    [InlineData("Identity", "Identity")]
    public void Model_keys_get_kratos_names(string key, string name) => Assert.Equal(name, TemplateModel.KratosName(key));
}
