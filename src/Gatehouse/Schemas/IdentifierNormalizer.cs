using System.Globalization;
using System.Text;
using PhoneNumbers;

namespace Gatehouse.Schemas;

/// <summary>
/// Normalises credential identifiers and addresses the way Kratos does (<c>x/normalize.go</c>), so that
/// identifiers stored at registration and looked up at login compare equal.
/// </summary>
public static class IdentifierNormalizer
{
    private static readonly PhoneNumberUtil Phones = PhoneNumberUtil.GetInstance();

    /// <summary>
    /// Trims, folds full-width forms, applies NFKC where the runtime supports it, strips code points PRECIS freeform
    /// disallows (controls, format and bidi characters, unassigned, private use, noncharacters,
    /// default-ignorables), and lower-cases. Kratos's graceful PRECIS mode: never fails.
    /// </summary>
    public static string Canonicalize(string value)
    {
        var trimmed = value.Trim();
        var kept = new StringBuilder(trimmed.Length);
        foreach (var rune in trimmed.EnumerateRunes())
        {
            if (!IsDisallowed(rune))
            {
                kept.Append(FoldWidth(rune).ToString());
            }
        }

        return Compose(kept.ToString()).ToLowerInvariant().Trim();
    }

    /// <summary>
    /// Kratos's <c>GracefulNormalization</c>, used for <c>password</c> and <c>webauthn</c> identifiers and
    /// for lookups: a valid international phone number becomes E.164, anything else is canonicalised.
    /// </summary>
    public static string Graceful(string value)
    {
        var canonical = Canonicalize(value);
        return TryNormalizePhone(canonical, out var e164) ? e164 : canonical;
    }

    /// <summary>Canonicalises an email address and checks it is one; false when it is not.</summary>
    public static bool TryNormalizeEmail(string value, out string normalized)
    {
        normalized = Canonicalize(value);
        return KratosFormats.IsEmail(normalized);
    }

    /// <summary>
    /// Parses an international phone number (it must start with <c>+</c> and the country code) and
    /// formats it as E.164; false when it is not a valid number.
    /// </summary>
    public static bool TryNormalizePhone(string value, out string e164)
    {
        e164 = value;
        var candidate = string.Concat(value.Trim().EnumerateRunes().Select(r => FoldWidth(r).ToString()));
        if (candidate.Length == 0 || candidate.Length > 64)
        {
            return false;
        }

        // Without a default region, libphonenumber accepts only numbers that carry their country code after a plus
        // sign (a leading "+", or an RFC 3966 phone-context that starts with one) and throws for anything else. Most
        // identifiers are email addresses or user names: answering them here saves a NumberParseException per call
        // (every credentials_identifier lookup and login normalises its identifier). Width folding above has already
        // turned a full-width plus into '+'.
        if (!candidate.Contains('+', StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            var number = Phones.Parse(candidate, null);
            if (!Phones.IsValidNumber(number))
            {
                return false;
            }

            e164 = Phones.Format(number, PhoneNumberFormat.E164);
            return true;
        }
        catch (NumberParseException)
        {
            return false;
        }
    }

    /// <summary>
    /// Why Kratos's <c>NormalizeIdentifier(value, "sms")</c> refuses a value that <see cref="TryNormalizePhone"/> does not
    /// accept, in the words of the Go code it runs (Kratos reports this text as a generic validation error): the strict
    /// PRECIS step's "precis: disallowed rune encountered", then nyaruka/phonenumbers' parse errors (a port of the same
    /// Java library as libphonenumber-csharp, so the error kinds map one to one), then Kratos's own "not a valid phone number".
    /// </summary>
    public static string PhoneRefusal(string value)
    {
        var trimmed = value.Trim();
        if (trimmed.EnumerateRunes().Any(IsDisallowed)) return "precis: disallowed rune encountered";
        try
        {
            Phones.Parse(string.Concat(trimmed.EnumerateRunes().Select(r => FoldWidth(r).ToString())), null);
        }
        catch (NumberParseException e)
        {
            return e.ErrorType switch
            {
                ErrorType.INVALID_COUNTRY_CODE => "invalid country code",
                ErrorType.TOO_SHORT_AFTER_IDD => "phone number had an IDD, but after this was not long enough to be a viable phone number",
                ErrorType.TOO_SHORT_NSN => "the string supplied is too short to be a phone number",
                ErrorType.TOO_LONG => "the string supplied is too long to be a phone number",
                _ => "the phone number supplied is not a number",
            };
        }
        return "the provided number is not a valid phone number";
    }

    // PRECIS's width mapping, done by hand because NFKC is unavailable under invariant globalization:
    // full-width ASCII forms and the ideographic space become their ASCII counterparts.
    private static Rune FoldWidth(Rune rune) => rune.Value switch
    {
        >= 0xFF01 and <= 0xFF5E => new Rune(rune.Value - 0xFF01 + 0x21),
        0x3000 => new Rune(' '),
        _ => rune,
    };

    // NFKC where the runtime provides it (it leaves the text unchanged under invariant globalization).
    private static string Compose(string value)
    {
        try
        {
            return value.Normalize(NormalizationForm.FormKC);
        }
        catch (Exception e) when (e is ArgumentException or PlatformNotSupportedException)
        {
            return value;
        }
    }

    private static bool IsDisallowed(Rune rune)
    {
        var value = rune.Value;
        if (value is >= 0xFDD0 and <= 0xFDEF || (value & 0xFFFE) == 0xFFFE)
        {
            return true; // noncharacters
        }

        if (value is 0x034F or 0x115F or 0x1160 or 0x17B4 or 0x17B5 or 0x3164 or 0xFFA0
            || value is >= 0xE0000 and <= 0xE0FFF)
        {
            return true; // default-ignorable code points outside the Cf category
        }

        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
                or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned => true,
            _ => false,
        };
    }
}
