using System.Reflection;

namespace Gatehouse.Tests.Architecture;

/// <summary>
/// DESIGN rule 1 and the strategy layer's promise, checked on the compiled <c>gatehouse</c> assembly (see
/// <see cref="TypeReferences"/> for what counts as a reference).
/// <para>
/// A <b>feature folder</b> is a top-level folder of <c>src/Gatehouse</c> — the second segment of a type's namespace,
/// <c>Gatehouse.&lt;Folder&gt;</c> — that holds a feature: identities, sessions, self-service, courier, … Not features,
/// and so exempt: <c>Persistence</c> (it implements the features' store contracts, so it references them all), the
/// composition root (<c>Cli</c>, and the root namespace with <c>Program</c> and <c>GatehouseApp</c>, which wire every
/// feature), and the shared kernel every feature builds on — <c>Config</c> (the options tree), <c>Text</c> (message ids),
/// and <c>Http</c> (the error envelope, JSON, and <c>PublicApi</c>/<c>AdminApi</c>, which compose the features'
/// endpoints). A subfolder (<c>SelfService/Flows/Login</c>) belongs to its top-level feature.
/// </para>
/// </summary>
public sealed class FeatureDependencyTests
{
    private static readonly HashSet<string> NotFeatures = ["", "Persistence", "Cli", "Config", "Text", "Http"];

    private static readonly Assembly Server = typeof(Gatehouse.GatehouseApp).Assembly;

    private static readonly Lazy<Dictionary<Type, HashSet<Type>>> References = new(() => TypeReferences.Of(Server));

    /// <summary>The top-level folder of a type: <c>Gatehouse.SelfService.Flows.Login.LoginFlows</c> → <c>SelfService</c>.</summary>
    public static string Folder(Type type)
    {
        var ns = type.Namespace ?? "";
        if (!ns.StartsWith("Gatehouse", StringComparison.Ordinal)) return "";
        var parts = ns.Split('.');
        return parts.Length > 1 ? parts[1] : "";
    }

    private static bool IsFeature(string folder) => !NotFeatures.Contains(folder);

    /// <summary>
    /// The feature types that still use the database context (or another Persistence type) directly, to be moved behind
    /// store contracts like the self-service flows were (issue 11). A ratchet: the list may only shrink — a type that no
    /// longer needs its entry fails the test until the entry is removed, and no new type may be added to it silently.
    /// </summary>
    private static readonly HashSet<string> NotYetMigrated =
    [
        "Gatehouse.ApiKeys.ApiKeyService",
        "Gatehouse.Courier.Courier",
        "Gatehouse.Courier.CourierMessages",
        "Gatehouse.Courier.CourierQueue",
        "Gatehouse.Identities.IdentityBatch",
        "Gatehouse.Identities.IdentityList",
        "Gatehouse.Identities.IdentityManager",
        "Gatehouse.SelfService.Flows.OneTimeCodes",
        "Gatehouse.Sessions.ManageSessions",
        "Gatehouse.Sessions.SessionAdminEndpoints",
        "Gatehouse.Sessions.SessionList",
        "Gatehouse.Sessions.SessionManager",
        "Gatehouse.Sessions.WhoamiCache",
        "Gatehouse.Sessions.WhoamiCacheListener",
    ];

    [Fact]
    public void The_analysis_sees_references_made_only_inside_method_bodies()
    {
        // LoginFlows names StrategyRegistry in its constructor, AuthenticationMethod only in a `new` inside an async method
        // (a compiler-generated state machine) and VerifiedAddressRequired only in a catch clause.
        var login = References.Value[typeof(Gatehouse.SelfService.Flows.Login.LoginFlows)];
        Assert.Contains(typeof(Gatehouse.SelfService.Strategies.StrategyRegistry), login);
        Assert.Contains(typeof(Gatehouse.Sessions.AuthenticationMethod), login);
        Assert.Contains(typeof(Gatehouse.SelfService.Hooks.VerifiedAddressRequired), login);
        // Persistence implements the features' contracts.
        Assert.Contains(typeof(Gatehouse.Identities.IIdentityReader), References.Value[typeof(Gatehouse.Persistence.Stores.EfIdentityReader)]);
    }

    [Fact]
    public void No_feature_folder_references_Persistence()
    {
        var users = References.Value
            .Where(r => IsFeature(Folder(r.Key)) && r.Value.Any(t => Folder(t) == "Persistence"))
            .ToDictionary(r => r.Key.FullName!, r => r.Value.Where(t => Folder(t) == "Persistence").Select(t => t.FullName!).Order(StringComparer.Ordinal).ToList());
        var offending = users.Where(u => !NotYetMigrated.Contains(u.Key)).Select(u => $"{u.Key} -> {string.Join(", ", u.Value)}").Order(StringComparer.Ordinal).ToList();
        Assert.True(offending.Count == 0,
            "Feature folders must reach storage through contracts they own, implemented in Persistence (DESIGN rule 1):\n" + string.Join('\n', offending));
        var done = NotYetMigrated.Where(t => !users.ContainsKey(t)).Order(StringComparer.Ordinal).ToList();
        Assert.True(done.Count == 0, "No longer using Persistence — remove from NotYetMigrated:\n" + string.Join('\n', done));
    }

    [Fact]
    public void No_feature_folder_source_imports_the_Persistence_namespace()
    {
        // A using directive the compiled code never needs leaves no trace in IL; read the sources when they are here.
        var src = FindSource();
        if (src is null)
        {
            Assert.Skip("src/Gatehouse is not next to the test binaries; the compiled-code check above still runs.");
            return;
        }
        var offending = Directory.EnumerateDirectories(src)
            .Where(d => IsFeature(Path.GetFileName(d)))
            .SelectMany(d => Directory.EnumerateFiles(d, "*.cs", SearchOption.AllDirectories))
            .Where(f => File.ReadLines(f).Any(l => l.Contains("Gatehouse.Persistence", StringComparison.Ordinal)))
            // A file named after a type still on the NotYetMigrated list may import it; no other file may.
            .Where(f => !NotYetMigrated.Any(t => t.EndsWith("." + Path.GetFileNameWithoutExtension(f), StringComparison.Ordinal)))
            .Select(f => Path.GetRelativePath(src, f)).Order(StringComparer.Ordinal).ToList();
        Assert.True(offending.Count == 0, "Feature folders name Gatehouse.Persistence:\n" + string.Join('\n', offending));
    }

    [Fact]
    public void Feature_folders_form_no_dependency_cycle()
    {
        // folder -> folder -> an example edge, so a failure says which type to change.
        var edges = new Dictionary<string, Dictionary<string, string>>();
        foreach (var (from, used) in References.Value)
        {
            var a = Folder(from);
            if (!IsFeature(a)) continue;
            foreach (var to in used)
            {
                var b = Folder(to);
                if (b == a || !IsFeature(b)) continue;
                if (!edges.TryGetValue(a, out var targets)) edges[a] = targets = [];
                targets.TryAdd(b, $"{from.FullName} -> {to.FullName}");
            }
        }
        var cycles = StronglyConnected(edges).Where(c => c.Count > 1).ToList();
        var report = cycles.Select(c => string.Join(", ", c.Order(StringComparer.Ordinal)) + ":\n  "
            + string.Join("\n  ", c.SelectMany(a => edges.GetValueOrDefault(a, []).Where(e => c.Contains(e.Key)).Select(e => $"{a} -> {e.Key} ({e.Value})"))));
        Assert.True(cycles.Count == 0, "Feature folders depend on each other in a cycle:\n" + string.Join('\n', report));
    }

    /// <summary>Tarjan's strongly connected components.</summary>
    private static List<HashSet<string>> StronglyConnected(Dictionary<string, Dictionary<string, string>> edges)
    {
        var nodes = edges.Keys.Concat(edges.Values.SelectMany(v => v.Keys)).Distinct().ToList();
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var result = new List<HashSet<string>>();
        var next = 0;
        void Visit(string v)
        {
            index[v] = low[v] = next++;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in edges.GetValueOrDefault(v, []).Keys)
            {
                if (!index.ContainsKey(w))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w)) low[v] = Math.Min(low[v], index[w]);
            }
            if (low[v] != index[v]) return;
            var component = new HashSet<string>();
            string x;
            do
            {
                x = stack.Pop();
                onStack.Remove(x);
                component.Add(x);
            } while (x != v);
            result.Add(component);
        }
        foreach (var n in nodes) if (!index.ContainsKey(n)) Visit(n);
        return result;
    }

    private static string? FindSource()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "Gatehouse");
            if (Directory.Exists(candidate)) return candidate;
        }
        return null;
    }
}
