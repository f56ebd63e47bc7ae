using Gatehouse.Config;
using Gatehouse.Tests.Config;

namespace Gatehouse.Tests.Courier;

public sealed class CourierConfigTests : IDisposable
{
    private readonly ConfigFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Courier_templates_retries_and_worker_keys_load_from_kratos_yaml()
    {
        var file = _files.Write("kratos.yml", """
            dsn: memory
            courier:
              template_override_path: /conf/courier-templates
              message_retries: 3
              worker:
                pull_count: 25
                pull_wait: 250ms
                retry_backoff: 2s
                retry_backoff_max: 1m
              smtp:
                connection_uri: smtps://u:p@mail.example:465/
                local_name: gatehouse.example
              templates:
                verification_code:
                  valid:
                    email:
                      subject: base64://SGk=
                      body:
                        html: file:///conf/v.html
                        plaintext: https://cdn.example/v.txt
                  invalid:
                    email:
                      subject: file://relative/subject.gotmpl
                login_code:
                  valid:
                    email:
                      body:
                        plaintext: base64://e3sgLkxvZ2luQ29kZSB9fQ==
            """);
        var result = ConfigLoader.Load([file], new Dictionary<string, string?>(), dev: false);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("courier", StringComparison.Ordinal));
        var c = result.Options.Courier;
        Assert.Equal("/conf/courier-templates", c.TemplateOverridePath);
        Assert.Equal(3, c.MessageRetries);
        Assert.Equal(25, c.Worker.PullCount);
        Assert.Equal(TimeSpan.FromMilliseconds(250), c.Worker.PullWait);
        Assert.Equal(TimeSpan.FromSeconds(2), c.Worker.RetryBackoff);
        Assert.Equal(TimeSpan.FromMinutes(1), c.Worker.RetryBackoffMax);
        Assert.Equal("gatehouse.example", c.Smtp.LocalName);
        Assert.Equal("base64://SGk=", c.Templates["verification_code"].Valid!.Email!.Subject);
        Assert.Equal("file:///conf/v.html", c.Templates["verification_code"].Valid!.Email!.Body!.Html);
        Assert.Equal("https://cdn.example/v.txt", c.Templates["verification_code"].Valid!.Email!.Body!.Plaintext);
        Assert.Equal("file://relative/subject.gotmpl", c.Templates["verification_code"].Invalid!.Email!.Subject);
        Assert.Equal("base64://e3sgLkxvZ2luQ29kZSB9fQ==", c.Templates["login_code"].Valid!.Email!.Body!.Plaintext);
    }

    [Fact]
    public void Courier_defaults_match_kratos()
    {
        var c = new GatehouseOptions().Courier;
        Assert.Equal(5, c.MessageRetries);
        Assert.Equal(10, c.Worker.PullCount);
        Assert.Equal(TimeSpan.FromSeconds(1), c.Worker.PullWait);
        Assert.Equal("localhost", c.Smtp.LocalName);
        Assert.Equal("no-reply@ory.kratos.sh", c.Smtp.FromAddress);
    }

    [Fact]
    public void An_invalid_template_variant_kratos_does_not_have_is_warned_about_and_ignored()
    {
        var file = _files.Write("odd.yml", "dsn: memory\ncourier: {templates: {login_code: {invalid: {email: {subject: 'base64://SGk='}}}}}\n");
        var result = ConfigLoader.Load([file], new Dictionary<string, string?>(), dev: false);
        Assert.Contains("\"courier.templates.login_code.invalid\" is not supported by Gatehouse yet and is ignored", result.Warnings);
    }

    [Theory]
    [InlineData("courier: {templates: {recovery: {valid: {email: {subject: 'ftp://x'}}}}}", "courier.templates.recovery.valid.email.subject")]
    [InlineData("courier: {worker: {pull_count: 0}}", "courier.worker.pull_count")]
    [InlineData("courier: {message_retries: -1}", "courier.message_retries")]
    [InlineData("courier: {worker: {pull_wait: soon}}", "courier.worker.pull_wait")]
    public void Wrong_courier_values_are_reported_by_path(string yaml, string path)
    {
        var file = _files.Write("bad.yml", "dsn: memory\n" + yaml + "\n");
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load([file], new Dictionary<string, string?>(), dev: false));
        Assert.StartsWith(path, ex.Message, StringComparison.Ordinal);
    }
}
