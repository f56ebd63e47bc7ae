using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.Tests.Config;

/// <summary>The embedded schema and the options tree tell the same story.</summary>
public sealed class ConfigSchemaTests
{
    [Fact]
    public void Setting_a_key_to_its_schema_default_changes_nothing()
    {
        using var files = new ConfigFiles();
        var schema = ConfigSchema.Instance;
        var baseline = Serialize(Load(files, new JsonObject()));
        var checkedKeys = 0;

        foreach (var (path, leaf) in Defaults(schema, schema.Root, ConfigPath.Root))
        {
            var config = new JsonObject();
            JsonObject parent = config;
            foreach (var segment in path.Segments.SkipLast(1))
            {
                var next = new JsonObject();
                parent[(string)segment] = next;
                parent = next;
            }
            parent[(string)path.Segments[^1]] = leaf.DeepClone();

            Assert.True(JsonNode.DeepEquals(baseline, Serialize(Load(files, config))), $"{path}: the schema default {leaf.ToJsonString()} differs from the options tree's default");
            checkedKeys++;
        }

        Assert.True(checkedKeys > 30, $"only {checkedKeys} defaults were found");
    }

    private static GatehouseOptions Load(ConfigFiles files, JsonObject config)
    {
        config["dsn"] = "memory";
        config["secrets"] = new JsonObject { ["default"] = new JsonArray("a-default-secret-value") };
        var file = files.Write("defaults.json", config.ToJsonString());
        return ConfigLoader.Load([file], new Dictionary<string, string?>(), dev: false).Options;
    }

    private static JsonNode Serialize(GatehouseOptions options) =>
        JsonSerializer.SerializeToNode(options, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!;

    private static IEnumerable<(ConfigPath Path, JsonNode Default)> Defaults(ConfigSchema schema, JsonObject node, ConfigPath path)
    {
        if (node["default"] is { } value) yield return (path, value);
        if (schema.Resolve(node)["properties"] is JsonObject properties)
        {
            foreach (var (key, child) in properties)
            {
                foreach (var found in Defaults(schema, (JsonObject)child!, path.Append(key))) yield return found;
            }
        }
    }
}
