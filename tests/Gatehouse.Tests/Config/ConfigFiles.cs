namespace Gatehouse.Tests.Config;

/// <summary>Scratch folder for config files written by a test; deleted afterwards.</summary>
internal sealed class ConfigFiles : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gatehouse-config-").FullName;

    public string Folder => _folder;

    public string Write(string name, string content)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, content);
        return path;
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>The shared Kratos reference folder (<c>shared/reference/kratos</c>), found by walking up from the test binaries.</summary>
    public static string? KratosReference()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "reference");
            if (Directory.Exists(candidate)) return Path.Combine(candidate, "kratos");
        }
        return null;
    }
}
