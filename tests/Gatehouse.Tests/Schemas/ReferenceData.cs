namespace Gatehouse.Tests.Schemas;

/// <summary>
/// Kratos reference files live outside the repository (<c>../shared/reference</c>); tests that read them
/// skip when they are absent.
/// </summary>
internal static class ReferenceData
{
    public static string? Folder { get; } = Find();

    public static string PathOrSkip(params string[] parts)
    {
        Assert.SkipWhen(Folder is null, "The Kratos reference data (../shared/reference) is not available.");
        var path = Path.Combine([Folder!, .. parts]);
        Assert.SkipUnless(File.Exists(path), $"{path} is not available.");
        return path;
    }

    private static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "reference");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
