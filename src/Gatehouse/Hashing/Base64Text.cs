namespace Gatehouse.Hashing;

/// <summary>
/// Strict base64 for hash segments. Kratos decodes them with Go's <c>Strict()</c> encodings, so
/// only the canonical spelling of a value is accepted: no whitespace, no stray padding, no
/// non-zero trailing bits.
/// </summary>
internal static class Base64Text
{
    /// <summary>Standard alphabet with padding (Go's <c>StdEncoding</c>).</summary>
    public static bool TryDecodePadded(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length % 4 != 0)
        {
            return false;
        }

        var buffer = new byte[text.Length / 4 * 3];
        if (!Convert.TryFromBase64String(text, buffer, out var written))
        {
            return false;
        }

        var decoded = buffer.AsSpan(0, written).ToArray();
        if (!string.Equals(Convert.ToBase64String(decoded), text, StringComparison.Ordinal))
        {
            return false;
        }

        bytes = decoded;
        return true;
    }

    /// <summary>Standard alphabet without padding (Go's <c>RawStdEncoding</c>), as PHC strings use.</summary>
    public static bool TryDecodeUnpadded(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Contains('=', StringComparison.Ordinal) || text.Length % 4 == 1)
        {
            return false;
        }

        var padded = (text.Length % 4) switch
        {
            2 => text + "==",
            3 => text + "=",
            _ => text,
        };
        return TryDecodePadded(padded, out bytes);
    }

    public static string EncodeUnpadded(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=');
}
