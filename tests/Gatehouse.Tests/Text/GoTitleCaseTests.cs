using Gatehouse.Text;

namespace Gatehouse.Tests.Text;

/// <summary>
/// The provider names of Kratos's login hints (4000028) are <c>cases.Title(language.English).String(id)</c>
/// (text/message_validation.go <c>NewErrorValidationDuplicateCredentialsWithHints</c>); every expected value here is
/// what golang.org/x/text/cases printed for the input.
/// </summary>
public sealed class GoTitleCaseTests
{
    [Theory]
    [InlineData("github", "Github")]
    [InlineData("GitHub", "Github")]
    [InlineData("GITHUB", "Github")]
    [InlineData("generic", "Generic")]
    [InlineData("my-provider", "My-Provider")]
    [InlineData("my_provider", "My_provider")]
    [InlineData("azure_ad", "Azure_ad")]
    [InlineData("foo__bar", "Foo__bar")]
    [InlineData("_foo", "_Foo")]
    [InlineData("my.provider", "My.provider")]
    [InlineData("sign.in.with.apple", "Sign.in.with.apple")]
    [InlineData("x.com", "X.com")]
    [InlineData("my provider", "My Provider")]
    [InlineData("ABC DEF", "Abc Def")]
    [InlineData("my-IDP", "My-Idp")]
    [InlineData("okta-sso", "Okta-Sso")]
    [InlineData("google2", "Google2")]
    [InlineData("auth0", "Auth0")]
    [InlineData("hydra-1", "Hydra-1")]
    [InlineData("2fa", "2Fa")]
    [InlineData("1st", "1St")]
    [InlineData("x2y", "X2y")]
    [InlineData("a1b2", "A1b2")]
    [InlineData("aBc123Def", "Abc123def")]
    [InlineData("keycloak_v2", "Keycloak_v2")]
    [InlineData("a_b-c.d e:f/g", "A_b-C.d E:f/G")]
    [InlineData("o'neil", "O'neil")]
    [InlineData("o\u2019neil", "O\u2019neil")]
    [InlineData("'a", "'A")]
    [InlineData("a''b", "A''B")]
    [InlineData("a:.b", "A:.B")]
    [InlineData("a'.b", "A'.B")]
    [InlineData("a.b.c", "A.b.c")]
    [InlineData("a1.b", "A1.b")]
    [InlineData("a:b", "A:b")]
    [InlineData("a\u00B7b", "A\u00B7b")]
    [InlineData("a,b", "A,B")]
    [InlineData("a;b", "A;B")]
    [InlineData("a@b", "A@B")]
    [InlineData("a+b", "A+B")]
    [InlineData("a~b", "A~B")]
    [InlineData("a$b", "A$B")]
    [InlineData("a#b", "A#B")]
    [InlineData("a=b", "A=B")]
    [InlineData("a(b)c", "A(B)C")]
    [InlineData("a\tb", "A\tB")]
    [InlineData("a\u00A0b", "A\u00A0B")]
    [InlineData("a\u2014b", "A\u2014B")]
    [InlineData("a\u203Fb", "A\u203Fb")]
    [InlineData("a\u4E2Db", "A\u4E2DB")]
    [InlineData("a\u30A2b", "A\u30A2B")]
    [InlineData("\u00C9COLE", "\u00C9cole")]
    [InlineData("stra\u00DFe", "Stra\u00DFe")]
    [InlineData("a\u0301b", "A\u0301b")]
    [InlineData("\u01C6emal", "\u01C5emal")]
    [InlineData("\u0133ssel", "\u0132ssel")]
    [InlineData("x", "X")]
    [InlineData("", "")]
    public void Provider_ids_are_title_cased_as_go_x_text_cases_title(string id, string expected) =>
        Assert.Equal(expected, GoTitleCase.Title(id));

    [Fact]
    public void Login_hints_title_case_provider_ids_but_keep_placeholders()
    {
        var message = Messages.DuplicateCredentialsWithHints(["oidc"], ["github", "my_provider", "{{provider}}"], "");
        Assert.Equal(4000028L, (long)message["id"]!);
        Assert.EndsWith("You can sign in using one of the following social sign in providers: Github, My_provider, {{provider}}.", (string)message["text"]!, StringComparison.Ordinal);
        // The context keeps the ids as configured.
        Assert.Equal("my_provider", (string?)message["context"]!["available_oidc_providers"]![1]);
    }
}
