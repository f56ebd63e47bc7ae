namespace Gatehouse.OAuth2.Flows;

/// <summary>
/// fosite's <c>Arguments</c> comparisons of response types (<c>arguments.go</c>), with their case rules: <c>Has</c> and
/// <c>Matches</c> ignore case (<c>StringInSlice</c>), <c>ExactOne</c> does not.
/// </summary>
internal static class ResponseTypeSet
{
    public static bool Has(IReadOnlyList<string> types, params string[] items) =>
        items.All(i => types.Contains(i, StringComparer.OrdinalIgnoreCase));

    public static bool ExactOne(IReadOnlyList<string> types, string name) => types.Count == 1 && types[0] == name;

    /// <summary>The same set in any order: as many values, each item among them, the items covering them.</summary>
    public static bool Matches(IReadOnlyList<string> types, params string[] items)
    {
        if (types.Count != items.Length) return false;
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            if (!types.Contains(item, StringComparer.OrdinalIgnoreCase)) return false;
            found.Add(item);
        }
        return found.Count == types.Count;
    }
}
