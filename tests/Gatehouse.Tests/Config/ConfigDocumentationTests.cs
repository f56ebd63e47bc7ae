using Gatehouse.Config;

namespace Gatehouse.Tests.Config;

public sealed class ConfigDocumentationTests
{
    [Fact]
    public void Every_supported_key_is_listed_in_docs_configuration_md()
    {
        var docs = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "configuration.md"));
        var missing = SupportedKeys(ConfigSchema.Instance)
            .Where(key => !docs.Contains($"`{key}", StringComparison.Ordinal))
            .ToList();

        Assert.Empty(missing);
    }

    // Hook sections are documented as a whole, so keys are cut after their first "before"/"after" segment
    // (except logout's, which has no hooks); so are the free-form header map and the courier's template tree.
    private static HashSet<string> SupportedKeys(ConfigSchema schema)
    {
        var keys = new HashSet<string>();
        Collect(schema, schema.Root, [], keys);
        return keys;
    }

    private static void Collect(ConfigSchema schema, System.Text.Json.Nodes.JsonObject node, List<string> path, HashSet<string> keys)
    {
        var resolved = schema.Resolve(node);
        var isHookSection = path.Count > 0 && path[^1] is "before" or "after" && !path.Contains("logout");
        // A map of objects (the tokenizer's templates) is documented per key of its entries: `map.<name>.key`.
        if (!isHookSection && path is not ["courier", "templates"] && resolved["properties"] is null
            && resolved["additionalProperties"] is System.Text.Json.Nodes.JsonObject entry && schema.Resolve(entry)["properties"] is not null)
        {
            Collect(schema, entry, [.. path, "<name>"], keys);
            return;
        }
        if (isHookSection || resolved["properties"] is not System.Text.Json.Nodes.JsonObject properties || path is ["courier", "smtp", "headers"] or ["courier", "templates"])
        {
            keys.Add(string.Join('.', path));
            return;
        }
        foreach (var (key, child) in properties)
        {
            Collect(schema, (System.Text.Json.Nodes.JsonObject)child!, [.. path, key], keys);
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gatehouse.slnx"))) return dir.FullName;
        }
        throw new InvalidOperationException("Gatehouse.slnx not found above " + AppContext.BaseDirectory);
    }
}
