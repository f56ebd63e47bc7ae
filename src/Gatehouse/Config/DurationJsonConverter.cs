using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gatehouse.Config;

/// <summary>Reads Go duration strings (<c>1h</c>, <c>15m</c>, <c>1h30m</c>, <c>500ms</c>) as Kratos's config does.</summary>
public sealed class DurationJsonConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.GetString() ?? throw new JsonException("expected a duration string such as \"1h\" or \"15m\"");
        return GoDuration.TryParse(text, out var value)
            ? value
            : throw new JsonException($"\"{text}\" is not a duration (expected e.g. \"1h\", \"15m\", \"30s\")");
    }

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
        writer.WriteStringValue(GoDuration.Format(value));
}

public sealed class NullableDurationJsonConverter : JsonConverter<TimeSpan?>
{
    public override TimeSpan? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? null : new DurationJsonConverter().Read(ref reader, typeof(TimeSpan), options);

    public override void Write(Utf8JsonWriter writer, TimeSpan? value, JsonSerializerOptions options)
    {
        if (value is null) writer.WriteNullValue();
        else writer.WriteStringValue(GoDuration.Format(value.Value));
    }
}
