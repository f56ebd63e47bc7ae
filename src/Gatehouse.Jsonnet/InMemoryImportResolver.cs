using System.Text;

namespace Gatehouse.Jsonnet;

/// <summary>Serves imports from a fixed set of named snippets (e.g. libraries configured in the server).</summary>
public sealed class InMemoryImportResolver(IReadOnlyDictionary<string, string> files) : IJsonnetImportResolver
{
    public JsonnetImport? Resolve(string importingFile, string importPath) =>
        files.TryGetValue(importPath, out var text) ? new JsonnetImport(importPath, Encoding.UTF8.GetBytes(text)) : null;
}
