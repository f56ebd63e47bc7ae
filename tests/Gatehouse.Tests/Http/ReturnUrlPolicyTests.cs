using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.Http.Errors;

namespace Gatehouse.Tests.Http;

public sealed class ReturnUrlPolicyTests
{
    private static ReturnUrlPolicy Policy()
    {
        var o = new GatehouseOptions();
        o.Serve.Public.BaseUrl = "http://127.0.0.1:4433/";
        o.Selfservice.DefaultBrowserReturnUrl = "https://app.example.com/welcome";
        o.Selfservice.AllowedReturnUrls = ["https://app.example.com/", "https://*.tenant.example.org", "http://localhost:3000/callback"];
        return new ReturnUrlPolicy(o);
    }

    [Theory]
    [InlineData("https://app.example.com/dashboard?x=1")]
    [InlineData("https://a.tenant.example.org/x")]
    [InlineData("http://localhost:3000/callback")]
    [InlineData("http://localhost:3000/callback/deeper")]
    [InlineData("http://127.0.0.1:4433/ui/welcome")]
    public void Allowed_urls_pass(string url) => Assert.True(Policy().IsAllowed(url, out _));

    [Theory]
    [InlineData("https://evil.example.com/")]
    [InlineData("https://app.example.com.evil.com/")]
    [InlineData("http://app.example.com/")]
    [InlineData("https://tenant.example.org/")]
    [InlineData("http://localhost:3000/callbackx")]
    [InlineData("//evil.com/x")]
    [InlineData("javascript:alert(1)")]
    [InlineData("http://localhost:3001/callback")]
    public void Other_urls_are_refused(string url) => Assert.False(Policy().IsAllowed(url, out _));

    [Theory]
    [InlineData("https:app.example.com")]
    [InlineData("https:/app.example.com/")]
    [InlineData("https:")]
    [InlineData("http:/ui/welcome")]
    [InlineData("HTTPS:app.example.com/dashboard")]
    [InlineData(" https:app.example.com")]
    [InlineData("x-app+1.0:open")]
    public void A_scheme_without_an_authority_is_refused_not_a_parse_failure(string url)
    {
        Assert.False(Policy().IsAllowed(url, out _));
        var e = Assert.Throws<GatehouseError>(() => Policy().Validate(url));
        Assert.Equal(400, e.Code);
        Assert.Equal("self_service_flow_return_to_forbidden", e.ErrorId);
    }

    [Fact]
    public void A_colon_after_the_first_path_segment_is_still_a_relative_path()
    {
        Assert.True(Policy().IsAllowed("/ui/a:b", out var absolute));
        Assert.Equal("http://127.0.0.1:4433/ui/a:b", absolute);
        Assert.True(Policy().IsAllowed("ui/x?next=https:app", out absolute));
        Assert.Equal("http://127.0.0.1:4433/ui/x?next=https:app", absolute);
    }

    [Fact]
    public void Relative_urls_resolve_against_the_public_base()
    {
        Assert.True(Policy().IsAllowed("/ui/settings", out var absolute));
        Assert.Equal("http://127.0.0.1:4433/ui/settings", absolute);
    }

    [Fact]
    public void Resolve_falls_back_to_the_default_and_refuses_foreign_urls()
    {
        Assert.Equal("https://app.example.com/welcome", Policy().Resolve(null));
        var e = Assert.Throws<GatehouseError>(() => Policy().Resolve("https://evil.example.com/"));
        Assert.Equal(400, e.Code);
        Assert.Equal("self_service_flow_return_to_forbidden", e.ErrorId);
    }
}
