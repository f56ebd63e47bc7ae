namespace Gatehouse.Jsonnet;

/// <summary>
/// Resolves imports like the reference <c>jsonnet</c> CLI: first relative to the importing file's folder,
/// then in the library folders (<c>-J</c>), the last one given first. Optionally confined to allowed roots.
/// </summary>
public sealed class FileSystemImportResolver : IJsonnetImportResolver
{
    private readonly string[] _libraryPaths;
    private readonly string[]? _allowedRoots;
    private readonly string[]? _realRoots;
    private readonly string? _workingDirectory;

    /// <param name="libraryPaths">Library folders in command-line order (the right-most wins, as in the reference CLI).</param>
    /// <param name="allowedRoots">When given, files outside these folders are never read.</param>
    /// <param name="workingDirectory">Folder that relative file names are relative to (default: the process's current folder).
    /// Import paths keep their relative form in errors, as the reference prints them.</param>
    public FileSystemImportResolver(IEnumerable<string>? libraryPaths = null, IEnumerable<string>? allowedRoots = null, string? workingDirectory = null)
    {
        _workingDirectory = workingDirectory;
        _libraryPaths = (libraryPaths ?? []).Reverse().ToArray();
        _allowedRoots = allowedRoots?.Select(r => Path.GetFullPath(r).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar).ToArray();
        _realRoots = _allowedRoots?.Select(r => RealPath(r.TrimEnd(Path.DirectorySeparatorChar)) + Path.DirectorySeparatorChar).ToArray();
    }

    public JsonnetImport? Resolve(string importingFile, string importPath)
    {
        if (importPath.Length == 0)
        {
            return null;
        }
        var dir = Path.GetDirectoryName(importingFile);
        if (importingFile.StartsWith('<'))
        {
            dir = "";
        }
        var candidates = new List<string>();
        if (Path.IsPathRooted(importPath))
        {
            candidates.Add(importPath);
        }
        else
        {
            candidates.Add(string.IsNullOrEmpty(dir) ? importPath : Path.Combine(dir, importPath));
            candidates.AddRange(_libraryPaths.Select(p => Path.Combine(p, importPath)));
        }
        foreach (var candidate in candidates)
        {
            var physical = _workingDirectory is null || Path.IsPathRooted(candidate) ? candidate : Path.Combine(_workingDirectory, candidate);
            if (!Allowed(physical) || !File.Exists(physical))
            {
                continue;
            }
            return new JsonnetImport(candidate, File.ReadAllBytes(physical));
        }
        return null;
    }

    private bool Allowed(string candidate)
    {
        if (_allowedRoots is null)
        {
            return true;
        }
        // Both the path as written and the file it really is (after symbolic links) must be inside a root,
        // so that a link placed in an allowed folder cannot reach outside it.
        var full = Path.GetFullPath(candidate);
        var real = RealPath(full);
        return _allowedRoots.Any(root => full.StartsWith(root, StringComparison.Ordinal))
            && _realRoots!.Any(root => real.StartsWith(root, StringComparison.Ordinal));
    }

    /// <summary>The path with every symbolic link along it resolved.</summary>
    private static string RealPath(string fullPath)
    {
        var root = Path.GetPathRoot(fullPath) ?? "/";
        var current = root;
        foreach (var part in fullPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
            {
                current = Path.GetFullPath(target.FullName);
            }
        }
        return current;
    }
}
