using Gatehouse.Config;
using Gatehouse.Http;

namespace Gatehouse.Tests.Http;

/// <summary>The return-URL policy matches whole path segments and hands back exactly the URL it checked.</summary>
public sealed class ReturnUrlBoundaryTests
{
    private static ReturnUrlPolicy Policy(string? defaultReturnUrl, params string[] allowed)
    {
        var o = new GatehouseOptions();
        o.Serve.Public.BaseUrl = "http://127.0.0.1:4433/";
        o.Selfservice.DefaultBrowserReturnUrl = defaultReturnUrl;
        o.Selfservice.AllowedReturnUrls = [.. allowed];
        return new ReturnUrlPolicy(o);
    }

    [Theory]
    [InlineData("https://app.example.com/welcome")]
    [InlineData("https://app.example.com/welcome/")]
    [InlineData("https://app.example.com/welcome/next?x=1")]
    public void The_default_return_url_allows_itself_and_what_lies_under_it(string url) =>
        Assert.True(Policy("https://app.example.com/welcome").IsAllowed(url, out _));

    [Theory]
    [InlineData("https://app.example.com/welcomeevil")]
    [InlineData("https://app.example.com/welcome-to-phishing")]
    [InlineData("https://app.example.com/")]
    public void The_default_return_url_does_not_allow_siblings_sharing_its_prefix(string url) =>
        Assert.False(Policy("https://app.example.com/welcome").IsAllowed(url, out _));

    [Theory]
    [InlineData("https://app.example.com/app", "https://app.example.com/application")]
    [InlineData("https://app.example.com/app/", "https://app.example.com/application")]
    [InlineData("https://app.example.com/app", "https://app.example.com/app.evil")]
    public void An_allowed_url_does_not_allow_siblings_sharing_its_prefix(string allowed, string url) =>
        Assert.False(Policy(null, allowed).IsAllowed(url, out _));

    [Theory]
    [InlineData("https://*.com", "https://evil.com/")]
    [InlineData("https://*", "https://evil.com/")]
    [InlineData("https://*example.com", "https://evilexample.com/")]
    public void Wildcards_spanning_a_whole_top_level_domain_or_a_partial_label_allow_nothing(string allowed, string url) =>
        Assert.False(Policy(null, allowed).IsAllowed(url, out _));

    [Fact]
    public void A_wildcard_allows_subdomains_but_not_the_bare_domain()
    {
        var policy = Policy(null, "https://*.example.org");
        Assert.True(policy.IsAllowed("https://a.example.org/x", out _));
        Assert.True(policy.IsAllowed("https://a.b.example.org/", out _));
        Assert.False(policy.IsAllowed("https://example.org/", out _));
        Assert.False(policy.IsAllowed("https://aexample.org/", out _));
    }

    [Theory]
    [InlineData("https://app.example.com/a b?c=d e", "https://app.example.com/a%20b?c=d%20e")]
    [InlineData("  https://app.example.com/x", "https://app.example.com/x")]
    [InlineData("https://APP.example.com", "https://app.example.com/")]
    [InlineData("/ui/settings?x=a b", "http://127.0.0.1:4433/ui/settings?x=a%20b")]
    public void Validate_returns_the_url_in_the_form_it_was_checked(string requested, string expected) =>
        Assert.Equal(expected, Policy(null, "https://app.example.com/").Validate(requested));

    [Fact]
    public void Control_characters_never_survive_into_the_returned_url()
    {
        var validated = Policy(null, "https://app.example.com/").Validate("https://app.example.com/x\r\nSet-Cookie: a=b")!;
        Assert.DoesNotContain('\r', validated);
        Assert.DoesNotContain('\n', validated);
        Assert.True(Policy(null, "https://app.example.com/").IsAllowed(validated, out var again));
        Assert.Equal(validated, again);
    }
}
