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

/// <summary>
/// Hydra's <c>ttl.refresh_token</c>: a Go duration, or <c>-1</c> (number or string) for refresh tokens that never expire.
/// Hydra reads <c>-1</c> as a duration of -1 ns (koanf's <c>Duration</c> takes the integer as nanoseconds), and fosite gives
/// a refresh token an expiry only when its lifespan is above -1; <c>-1</c> is read here as the smallest negative
/// <see cref="TimeSpan"/>, <see cref="Never"/>.
/// </summary>
public sealed class RefreshTokenLifespanJsonConverter : JsonConverter<TimeSpan>
{
    /// <summary>The lifespan <c>-1</c> stands for: refresh tokens without expiry.</summary>
    public static readonly TimeSpan Never = TimeSpan.FromTicks(-1);

    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number)
            return reader.TryGetInt64(out var n) && n == -1 ? Never : throw new JsonException("expected a duration string such as \"720h\", or -1 for refresh tokens that never expire");
        return reader.GetString() == "-1" ? Never : new DurationJsonConverter().Read(ref reader, typeToConvert, options);
    }

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options)
    {
        if (value < TimeSpan.Zero) writer.WriteStringValue("-1");
        else writer.WriteStringValue(GoDuration.Format(value));
    }
}
