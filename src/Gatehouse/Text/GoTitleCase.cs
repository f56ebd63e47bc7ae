using System.Globalization;
using System.Text;

namespace Gatehouse.Text;

/// <summary>
/// Go's <c>cases.Title(language.English).String</c> (golang.org/x/text/cases), which Kratos applies to the provider ids
/// of its login hints (4000028). Per rune: a cased letter is title-cased when no word is open and opens one, else
/// lower-cased; any other rune is kept, and closes the word if its Unicode word-break class is a break. Letters,
/// digits, marks, connector punctuation (<c>_</c>) and format characters are no break, so "my_provider" is
/// "My_provider" and "2fa" is "2Fa"; the mid-word class (<c>'</c>, <c>.</c>, <c>:</c>, <c>·</c>, ’ …) is no break
/// either, but two of them in a row close the word ("a''b" is "A''B"); everything else (<c>-</c>, space, <c>/</c>,
/// <c>,</c>, …) is a break ("my-idp" is "My-Idp"). Exact for ASCII; beyond it as close as .NET's Unicode data allow
/// (no special casings such as "ß" → "Ss" or the Greek final sigma).
/// </summary>
public static class GoTitleCase
{
    public static string Title(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var sb = new StringBuilder(value.Length);
        var inWord = false;
        var previousMid = false;
        foreach (var rune in value.EnumerateRunes())
        {
            var mid = IsMid(rune);
            // x/text: a mid rune right after another mid rune ends the word before it is handled.
            if (previousMid && mid) inWord = false;
            if (IsCased(rune))
            {
                sb.Append(inWord ? Rune.ToLowerInvariant(rune).ToString() : TitleOf(rune));
                inWord = true;
            }
            else
            {
                sb.Append(rune.ToString());
                if (!mid && !IsLetterClass(rune)) inWord = false;
            }
            previousMid = mid;
        }
        return sb.ToString();
    }

    private static bool IsCased(Rune r) =>
        Rune.GetUnicodeCategory(r) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
        || Rune.ToUpperInvariant(r) != r || Rune.ToLowerInvariant(r) != r;

    /// <summary>The title case of a rune: its upper case, but for the Latin digraphs with a title form of their own and Georgian.</summary>
    private static string TitleOf(Rune r) => r.Value switch
    {
        >= 0x01C4 and <= 0x01C6 => "\u01C5",
        >= 0x01C7 and <= 0x01C9 => "\u01C8",
        >= 0x01CA and <= 0x01CC => "\u01CB",
        >= 0x01F1 and <= 0x01F3 => "\u01F2",
        // Georgian Mkhedruli title-cases to itself (its upper case is Mtavruli).
        (>= 0x10D0 and <= 0x10FA) or (>= 0x10FD and <= 0x10FF) => r.ToString(),
        _ => Rune.ToUpperInvariant(r).ToString(),
    };

    /// <summary>Word-break classes MidLetter, MidNumLet and Single_Quote (Unicode's WordBreakProperty).</summary>
    private static bool IsMid(Rune r) => r.Value is '\'' or '.' or ':' or 0x00B7 or 0x0387 or 0x055F or 0x05F4 or 0x2018 or 0x2019
        or 0x2024 or 0x2027 or 0xFE13 or 0xFE52 or 0xFE55 or 0xFF07 or 0xFF0E or 0xFF1A;

    /// <summary>
    /// Word-break classes ALetter, Hebrew_Letter, Numeric, ExtendNumLet, Extend, Format and ZWJ: letters (not
    /// ideographs, kana or the scripts written without spaces), digits, marks, connector punctuation, format characters.
    /// </summary>
    private static bool IsLetterClass(Rune r)
    {
        switch (Rune.GetUnicodeCategory(r))
        {
            case UnicodeCategory.DecimalDigitNumber or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
                or UnicodeCategory.EnclosingMark or UnicodeCategory.ConnectorPunctuation or UnicodeCategory.Format:
                return true;
            case UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.LetterNumber:
                return r.Value is not ((>= 0x0E00 and <= 0x0EFF) or (>= 0x1000 and <= 0x109F) or (>= 0x1780 and <= 0x17FF)
                    or (>= 0x3040 and <= 0x30FF) or (>= 0x31F0 and <= 0x31FF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x4E00 and <= 0x9FFF)
                    or (>= 0xF900 and <= 0xFAFF) or (>= 0xFF66 and <= 0xFF9F) or >= 0x20000);
            default:
                return false;
        }
    }
}
