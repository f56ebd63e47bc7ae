using Gatehouse.Http.Outbound;

namespace Gatehouse.Tests.Http;

public sealed class LoggedUrlTests
{
    [Theory]
    [InlineData("https://user:password@hooks.example.com/a/b?token=secret#frag", "https://hooks.example.com/a/b?*")]
    [InlineData("http://127.0.0.1:8080/hook", "http://127.0.0.1:8080/hook")]
    [InlineData("https://hooks.example.com:443/hook?", "https://hooks.example.com/hook")]
    [InlineData("https://[::1]:9000/x?a=1&b=2", "https://[::1]:9000/x?*")]
    [InlineData("https://only-user@hooks.example.com", "https://hooks.example.com/")]
    [InlineData("not a url", "(invalid URL)")]
    [InlineData("/relative?token=secret", "(invalid URL)")]
    public void Keeps_scheme_host_port_and_path_only(string url, string logged)
    {
        Assert.Equal(logged, LoggedUrl.FromString(url).ToString());
        if (url.Contains("://", StringComparison.Ordinal) && Uri.TryCreate(url, UriKind.Absolute, out var parsed)) Assert.Equal(logged, ((LoggedUrl)parsed).ToString());
    }

    [Fact]
    public void A_relative_uri_is_not_shown()
    {
        Assert.Equal("(relative URL)", LoggedUrl.FromUri(new Uri("/a?token=secret", UriKind.Relative)).ToString());
        Assert.Equal("", default(LoggedUrl).ToString());
    }
}
