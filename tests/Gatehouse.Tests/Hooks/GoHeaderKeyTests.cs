using Gatehouse.Http.Outbound;

namespace Gatehouse.Tests.Hooks;

/// <summary>Go's <c>textproto.CanonicalMIMEHeaderKey</c>, the names Kratos hands web hooks and the courier.</summary>
public sealed class GoHeaderKeyTests
{
    [Theory]
    [InlineData("user-agent", "User-Agent")]
    [InlineData("USER-AGENT", "User-Agent")]
    [InlineData("sec-ch-ua", "Sec-Ch-Ua")]
    [InlineData("Sec-CH-UA-Mobile", "Sec-Ch-Ua-Mobile")]
    [InlineData("True-Client-IP", "True-Client-Ip")]
    [InlineData("x_custom_header", "X_custom_header")] // only a hyphen starts a new word
    [InlineData("-a", "-A")]
    [InlineData("a--b", "A--B")]
    [InlineData("x1-2y", "X1-2y")]
    [InlineData("", "")]
    [InlineData("bad header", "bad header")] // not a token: left as it is, as Go does
    [InlineData("bad:header", "bad:header")]
    [InlineData("ümlaut", "ümlaut")]
    public void Names_are_canonical_as_in_go(string name, string expected) => Assert.Equal(expected, GoHeaderKey.Canonical(name));
}
