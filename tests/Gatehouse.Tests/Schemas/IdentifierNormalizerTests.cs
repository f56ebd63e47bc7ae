using Gatehouse.Schemas;

namespace Gatehouse.Tests.Schemas;

public sealed class IdentifierNormalizerTests
{
    [Theory]
    [InlineData("  Jane@Example.ORG ", "jane@example.org")]
    [InlineData("JaneDoe", "janedoe")]
    [InlineData("ｊａｎｅ", "jane")] // full-width letters fold
    [InlineData("ja\u200Bne", "jane")] // zero-width space is stripped
    [InlineData("ja\u202Ene", "jane")] // bidi override is stripped
    [InlineData("ja\u0000ne", "jane")]
    public void Canonicalize_trims_folds_strips_and_lower_cases(string input, string expected) =>
        Assert.Equal(expected, IdentifierNormalizer.Canonicalize(input));

    [Theory]
    [InlineData("+49 176 67111638", "+4917667111638")]
    [InlineData("+1 (415) 555-2671", "+14155552671")]
    [InlineData("Jane@Example.org", "jane@example.org")]
    [InlineData("0176 67111638", "0176 67111638")] // no country code: not a phone number, kept as text
    [InlineData(" User_Name ", "user_name")]
    public void Graceful_turns_phone_numbers_into_e164_and_canonicalises_the_rest(string input, string expected) =>
        Assert.Equal(expected, IdentifierNormalizer.Graceful(input));

    [Fact]
    public void TryNormalizePhone_rejects_numbers_that_are_not_valid()
    {
        Assert.False(IdentifierNormalizer.TryNormalizePhone("+12", out _));
        Assert.False(IdentifierNormalizer.TryNormalizePhone("hello", out _));
        Assert.True(IdentifierNormalizer.TryNormalizePhone("+4917667111638", out var e164));
        Assert.Equal("+4917667111638", e164);
    }

    [Theory]
    [InlineData("＋49 176 67111638", "+4917667111638")] // full-width plus
    [InlineData("tel:+49-176-67111638", "+4917667111638")]
    [InlineData("tel:176-67111638;phone-context=+49", "+4917667111638")]
    public void TryNormalizePhone_accepts_every_form_with_a_plus(string input, string expected)
    {
        Assert.True(IdentifierNormalizer.TryNormalizePhone(input, out var e164));
        Assert.Equal(expected, e164);
    }

    [Theory]
    [InlineData("004917667111638")] // international call prefix, but no region to read it with
    [InlineData("4917667111638")]
    [InlineData("tel:17667111638;phone-context=example.org")]
    [InlineData("user0001234@bench.example")]
    public void TryNormalizePhone_rejects_numbers_without_a_plus_as_libphonenumber_does(string input)
    {
        Assert.False(IdentifierNormalizer.TryNormalizePhone(input, out var unchanged));
        Assert.Equal(input, unchanged);
        // The shortcut must agree with the library it skips: without a region, parsing fails for these.
        Assert.Throws<PhoneNumbers.NumberParseException>(() => PhoneNumbers.PhoneNumberUtil.GetInstance().Parse(input, null));
    }

    [Fact]
    public void TryNormalizeEmail_canonicalises_and_checks_the_address()
    {
        Assert.True(IdentifierNormalizer.TryNormalizeEmail(" Jane@Example.org ", out var email));
        Assert.Equal("jane@example.org", email);
        Assert.False(IdentifierNormalizer.TryNormalizeEmail("jane", out _));
    }
}
