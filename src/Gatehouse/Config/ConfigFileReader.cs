using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Gatehouse.Config;

/// <summary>
/// Reads a YAML or JSON config file into a <see cref="JsonObject"/>. Plain YAML scalars are typed by the
/// YAML 1.2 core schema (so <c>yes</c> stays a string); quoted scalars always stay strings.
/// </summary>
internal static partial class ConfigFileReader
{
    public static JsonObject Read(string file)
    {
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{file}: cannot read the config file: {ex.Message}", ex);
        }
        var root = Path.GetExtension(file).Equals(".json", StringComparison.OrdinalIgnoreCase) ? ParseJson(file, text) : ParseYaml(file, text);
        return root switch
        {
            null => [],
            JsonObject map => map,
            _ => throw new ConfigException($"{file}: expected a map of configuration keys at the top level"),
        };
    }

    private static JsonNode? ParseJson(string file, string text)
    {
        try
        {
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new ConfigException($"{file}:{ex.LineNumber + 1}: invalid JSON: {ex.Message}", ex);
        }
    }

    private static JsonNode? ParseYaml(string file, string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new ConfigException($"{file}:{ex.Start.Line}:{ex.Start.Column}: invalid YAML: {ex.InnerException?.Message ?? ex.Message}", ex);
        }
        return stream.Documents.Count == 0 ? null : Convert(stream.Documents[0].RootNode, file);
    }

    private static JsonNode? Convert(YamlNode node, string file) => node switch
    {
        YamlMappingNode map => ConvertMap(map, file),
        YamlSequenceNode list => new JsonArray([.. list.Children.Select(c => Convert(c, file))]),
        YamlScalarNode scalar => ConvertScalar(scalar, file),
        _ => throw new ConfigException($"{file}:{node.Start.Line}:{node.Start.Column}: unsupported YAML node"),
    };

    private static JsonObject ConvertMap(YamlMappingNode map, string file)
    {
        var result = new JsonObject();
        foreach (var (key, value) in map.Children)
        {
            if (key is not YamlScalarNode { Value: { } name })
                throw new ConfigException($"{file}:{key.Start.Line}:{key.Start.Column}: map keys must be plain strings");
            result[name] = Convert(value, file);
        }
        return result;
    }

    private static JsonNode? ConvertScalar(YamlScalarNode scalar, string file)
    {
        var value = scalar.Value ?? "";
        if (!scalar.Tag.IsEmpty && !scalar.Tag.IsNonSpecific)
        {
            var typed = scalar.Tag.Value switch
            {
                "tag:yaml.org,2002:str" => JsonValue.Create(value),
                "tag:yaml.org,2002:null" => null,
                "tag:yaml.org,2002:bool" => TryBool(value),
                "tag:yaml.org,2002:int" => TryInteger(value),
                "tag:yaml.org,2002:float" => TryFloat(value),
                _ => JsonValue.Create(value),
            };
            if (typed is null && scalar.Tag.Value != "tag:yaml.org,2002:null")
                throw new ConfigException($"{file}:{scalar.Start.Line}:{scalar.Start.Column}: \"{value}\" is not a valid {scalar.Tag.Value}");
            return typed;
        }
        if (scalar.Style != ScalarStyle.Plain) return JsonValue.Create(value);
        if (value is "" or "~" or "null" or "Null" or "NULL") return null;
        return TryBool(value) ?? TryInteger(value) ?? TryFloat(value) ?? JsonValue.Create(value);
    }

    private static JsonValue? TryBool(string value) => value switch
    {
        "true" or "True" or "TRUE" => JsonValue.Create(true),
        "false" or "False" or "FALSE" => JsonValue.Create(false),
        _ => null,
    };

    private static JsonValue? TryInteger(string value)
    {
        if (DecimalInteger().IsMatch(value) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)) return JsonValue.Create(n);
        if (value.StartsWith("0x", StringComparison.Ordinal) && long.TryParse(value[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex)) return JsonValue.Create(hex);
        if (OctalInteger().IsMatch(value))
        {
            try
            {
                return JsonValue.Create(System.Convert.ToInt64(value[2..], 8));
            }
            catch (OverflowException)
            {
                return null;
            }
        }
        return null;
    }

    // .inf and .nan have no JSON form; they stay strings and fail validation where a number is expected.
    private static JsonValue? TryFloat(string value) =>
        CoreFloat().IsMatch(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)
            ? JsonValue.Create(d)
            : null;

    [GeneratedRegex("^[-+]?[0-9]+$")]
    private static partial Regex DecimalInteger();

    [GeneratedRegex("^0o[0-7]+$")]
    private static partial Regex OctalInteger();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex CoreFloat();
}
