namespace Gatehouse.Jsonnet;

/// <summary>
/// Decides what <c>import</c>, <c>importstr</c> and <c>importbin</c> may read. The host controls it:
/// without a resolver every import fails.
/// </summary>
public interface IJsonnetImportResolver
{
    /// <summary>
    /// Finds <paramref name="importPath"/> as written in the file <paramref name="importingFile"/>.
    /// Returns null when it is not found or not allowed.
    /// </summary>
    JsonnetImport? Resolve(string importingFile, string importPath);
}

/// <summary>A resolved import: the path it is known by (used in errors, <c>std.thisFile</c> and caching) and its bytes.</summary>
public sealed record JsonnetImport(string Path, byte[] Content);
