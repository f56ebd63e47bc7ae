using System.Reflection;

namespace Gatehouse.SelfService.Strategies.Password;

/// <summary>
/// The offline breached-password check: the ~30,000 most common passwords from public breach corpora, as ranked by
/// Dropbox's zxcvbn (the list ships inside the zxcvbn-core package, so no network is needed). Loaded once, lazily.
/// </summary>
public static class BreachedPasswords
{
    private static readonly Lazy<HashSet<string>> List = new(Load);

    public static int Count => List.Value.Count;

    public static bool IsCommon(string password) => List.Value.Contains(password.ToLowerInvariant());

    private static HashSet<string> Load()
    {
        var assembly = Assembly.Load("zxcvbn-core");
        var name = assembly.GetManifestResourceNames().First(n => n.EndsWith("passwords.lst", StringComparison.Ordinal));
        using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
        var set = new HashSet<string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            var word = line.Trim();
            if (word.Length > 0) set.Add(word.ToLowerInvariant());
        }
        return set;
    }
}
