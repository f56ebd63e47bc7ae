namespace Gatehouse.OAuth2.Flows;

/// <summary>
/// fosite's <c>Arguments</c> comparisons of response types (<c>arguments.go</c>), with their case rules: <c>Has</c> and
/// <c>Matches</c> ignore case (<c>StringInSlice</c>), <c>ExactOne</c> does not.
/// </summary>
internal static class ResponseTypeSet
{
    /// <summary>fosite's <c>OpenIDConnectHybridHandler</c> takes the request: two or more of <c>code</c> with <c>id_token</c> and/or <c>token</c>.</summary>
    public static bool IsHybrid(IReadOnlyList<string> types) =>
        types.Count >= 2 && (Matches(types, "token", "id_token", "code") || Matches(types, "token", "code") || Matches(types, "id_token", "code"));

    /// <summary>fosite's <c>OpenIDConnectImplicitHandler</c> takes the request: <c>id_token</c> (with <c>token</c> or alone), no <c>code</c>, <c>openid</c> granted.</summary>
    public static bool IsOpenIdImplicit(IReadOnlyList<string> types, bool openid) =>
        openid && (Has(types, "token", "id_token") || ExactOne(types, "id_token")) && !Has(types, "code");

    /// <summary>
    /// Whether fosite's authorize handlers answer every requested response type (<c>NewAuthorizeResponse</c>'s
    /// <c>DidHandleAllResponseTypes</c>, else <c>unsupported_response_type</c>): <c>code</c> (explicit), <c>token</c>
    /// (<c>AuthorizeImplicitGrantHandler</c>), the hybrid sets (which also take <c>id_token</c> without <c>openid</c>,
    /// issuing none), and the OpenID Connect implicit sets with <c>openid</c> granted.
    /// </summary>
    public static bool HandledAll(IReadOnlyList<string> types, bool openid)
    {
        var handled = new List<string>();
        if (ExactOne(types, "code")) handled.Add("code");
        if (ExactOne(types, "token")) handled.Add("token");
        if (IsHybrid(types))
        {
            handled.Add("code");
            if (Has(types, "token")) handled.Add("token");
            handled.Add("id_token");
        }
        if (IsOpenIdImplicit(types, openid))
        {
            if (Has(types, "token")) handled.Add("token");
            handled.Add("id_token");
        }
        return types.Count > 0 && types.All(t => handled.Contains(t, StringComparer.OrdinalIgnoreCase));
    }

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
