using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gatehouse.Config;

/// <summary>Reads sizes such as <c>128MB</c>, <c>1GB</c>, <c>64KB</c> or a plain number of bytes (Kratos's <c>bytesize</c>).</summary>
public sealed class ByteSizeJsonConverter : JsonConverter<long>
{
    public override long Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number) return reader.GetInt64();
        var text = reader.GetString() ?? "";
        return TryParse(text, out var bytes) ? bytes : throw new JsonException($"\"{text}\" is not a size (expected e.g. \"128MB\")");
    }

    public override void Write(Utf8JsonWriter writer, long value, JsonSerializerOptions options) => writer.WriteNumberValue(value);

    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        var s = text.Trim();
        var i = 0;
        while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.')) i++;
        if (i == 0 || !double.TryParse(s[..i], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n)) return false;
        long unit = s[i..].Trim().ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "KB" or "K" or "KIB" => 1024,
            "MB" or "M" or "MIB" => 1024 * 1024,
            "GB" or "G" or "GIB" => 1024L * 1024 * 1024,
            "TB" or "T" or "TIB" => 1024L * 1024 * 1024 * 1024,
            _ => 0,
        };
        // Beyond long's range the conversion below would not saturate but turn negative.
        if (unit == 0 || n * unit >= long.MaxValue) return false;
        bytes = (long)(n * unit);
        return true;
    }
}
