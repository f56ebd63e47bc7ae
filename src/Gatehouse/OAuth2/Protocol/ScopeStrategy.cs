namespace Gatehouse.OAuth2.Protocol;

/// <summary>
/// Hydra's default scope strategy (<c>strategies.scope: wildcard</c>, fosite <c>WildcardScopeStrategy</c>): a
/// requested scope is allowed when it equals an allowed scope part by part (parts split on <c>.</c>), where a <c>*</c>
/// part matches any non-empty part, and a trailing <c>*</c> also matches any deeper scope (<c>photos.*</c> allows
/// <c>photos.read</c> and <c>photos.read.all</c>). Callers go through <see cref="OAuth2Settings.AllowsScope"/>, which
/// applies <c>strategies.scope: exact</c> (plain string equality) instead when configured.
/// </summary>
public static class ScopeStrategy
{
    public static bool Allows(IEnumerable<string> allowed, string requested)
    {
        var needle = requested.Split('.');
        foreach (var matcher in allowed)
        {
            var parts = matcher.Split('.');
            if (parts.Length > needle.Length) continue;
            var equal = true;
            for (var k = 0; k < parts.Length; k++)
            {
                var c = parts[k];
                if (k == parts.Length - 1 && parts.Length != needle.Length && c != "*") { equal = false; break; }
                if (c == "*" && needle[k].Length > 0) continue;
                if (c != needle[k]) { equal = false; break; }
            }
            if (equal) return true;
        }
        return false;
    }

    public static string[] Split(string? scope) => string.IsNullOrWhiteSpace(scope) ? [] : scope.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
