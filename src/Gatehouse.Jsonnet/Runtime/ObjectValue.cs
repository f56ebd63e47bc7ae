using Gatehouse.Jsonnet.Syntax;

namespace Gatehouse.Jsonnet.Runtime;

internal sealed class ObjectField(string name, FieldVisibility visibility, bool plus, Node? body, Env? env, Thunk? constant)
{
    public string Name { get; } = name;

    public FieldVisibility Visibility { get; } = visibility;

    public bool Plus { get; } = plus;

    public Node? Body { get; } = body;

    /// <summary>The field's own environment (comprehension fields); otherwise the layer's.</summary>
    public Env? Env { get; } = env;

    /// <summary>A value that does not depend on self (built-in objects).</summary>
    public Thunk? Constant { get; } = constant;
}

/// <summary>One object literal (or built-in object) in an inheritance chain.</summary>
internal sealed class ObjectLayer(Dictionary<string, ObjectField> fields, Env? env, Bind[] locals, AssertNode[] asserts, bool bindsDollar)
{
    /// <summary>For a mask layer (std.objectRemoveKey): the removed key.</summary>
    public string? MaskKey { get; init; }

    /// <summary>For a mask layer: how many layers below it the removal covers.</summary>
    public int MaskDepth { get; init; }

    /// <summary>The variable the literal was bound to, for stack traces.</summary>
    public string? Name { get; init; }

    /// <summary>Precomputed field facts shared by every object made from the same literal (null when names are computed).</summary>
    public LayerShape? Shape { get; init; }

    public static ObjectLayer Mask(string key, int depth) => new(new Dictionary<string, ObjectField>(StringComparer.Ordinal), null, [], [], false) { MaskKey = key, MaskDepth = depth };

    public Dictionary<string, ObjectField> Fields { get; } = fields;

    public Env? Env { get; } = env;

    public Bind[] Locals { get; } = locals;

    public AssertNode[] Asserts { get; } = asserts;

    public bool BindsDollar { get; } = bindsDollar;

    public static ObjectLayer Constant(Dictionary<string, ObjectField> fields) => new(fields, null, [], [], false);
}

/// <summary>An object: its layers from the base (index 0) to the most derived.</summary>
internal sealed class ObjectValue : Value
{
    public static readonly ObjectValue Empty = new([]);

    private Dictionary<string, Value>? _cache;
    private Dictionary<string, bool>? _visibility;
    private string[]? _visibleSorted;
    private string[]? _allSorted;

    public ObjectValue(ObjectLayer[] layers)
    {
        Layers = layers;
        foreach (var l in layers)
        {
            if (l.Asserts.Length > 0)
            {
                HasAsserts = true;
            }
            if (l.MaskKey is not null)
            {
                HasMasks = true;
            }
        }
    }

    public bool HasMasks { get; }

    public ObjectLayer[] Layers { get; }

    public bool HasAsserts { get; }

    public bool AssertsChecked { get; set; }

    /// <summary>Per layer, the environment its fields are evaluated in with this object as self (built on first use).</summary>
    public Env?[]? FieldEnvs { get; set; }

    public override string TypeName => "object";

    public static ObjectValue FromConstants(IEnumerable<KeyValuePair<string, Thunk>> fields, FieldVisibility visibility = FieldVisibility.Inherit)
    {
        var dict = new Dictionary<string, ObjectField>(StringComparer.Ordinal);
        foreach (var (k, v) in fields)
        {
            dict[k] = new ObjectField(k, visibility, false, null, null, v);
        }
        return new ObjectValue([ObjectLayer.Constant(dict)]);
    }

    public bool TryGetCached(string name, out Value value)
    {
        if (_cache is not null && _cache.TryGetValue(name, out value!))
        {
            return true;
        }
        value = null!;
        return false;
    }

    public void SetCached(string name, Value value) => (_cache ??= new Dictionary<string, Value>(StringComparer.Ordinal))[name] = value;

    /// <summary>Index of the top-most layer at or below <paramref name="fromLevel"/> defining the field, or -1.</summary>
    public int FindLayer(string name, int fromLevel)
    {
        for (var i = fromLevel; i >= 0; i--)
        {
            var layer = Layers[i];
            if (layer.Fields.ContainsKey(name))
            {
                return i;
            }
            if (layer.MaskKey is not null && string.Equals(layer.MaskKey, name, StringComparison.Ordinal))
            {
                i -= layer.MaskDepth;
            }
        }
        return -1;
    }

    public Dictionary<string, bool> Visibility
    {
        get
        {
            if (_visibility is not null)
            {
                return _visibility;
            }
            if (Layers.Length == 1 && Layers[0].Shape is { } shape)
            {
                return _visibility = shape.Visibility;
            }
            if (HasMasks)
            {
                return _visibility = MaskedVisibility();
            }
            var vis = new Dictionary<string, FieldVisibility>(StringComparer.Ordinal);
            foreach (var layer in Layers)
            {
                foreach (var f in layer.Fields.Values)
                {
                    if (f.Visibility != FieldVisibility.Inherit || !vis.ContainsKey(f.Name))
                    {
                        vis[f.Name] = f.Visibility;
                    }
                }
            }
            var result = new Dictionary<string, bool>(vis.Count, StringComparer.Ordinal);
            foreach (var (k, v) in vis)
            {
                result[k] = v != FieldVisibility.Hidden;
            }
            return _visibility = result;
        }
    }

    private Dictionary<string, bool> MaskedVisibility()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var layer in Layers)
        {
            names.UnionWith(layer.Fields.Keys);
        }
        var result = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var found = false;
            var visibility = FieldVisibility.Inherit;
            for (var i = Layers.Length - 1; i >= 0; i--)
            {
                var layer = Layers[i];
                if (layer.Fields.TryGetValue(name, out var f))
                {
                    found = true;
                    if (f.Visibility != FieldVisibility.Inherit)
                    {
                        visibility = f.Visibility;
                        break;
                    }
                }
                else if (layer.MaskKey is not null && string.Equals(layer.MaskKey, name, StringComparison.Ordinal))
                {
                    i -= layer.MaskDepth;
                }
            }
            if (found)
            {
                result[name] = visibility != FieldVisibility.Hidden;
            }
        }
        return result;
    }

    public bool HasField(string name, bool includeHidden) =>
        Visibility.TryGetValue(name, out var visible) && (visible || includeHidden);

    public string[] FieldNames(bool includeHidden)
    {
        if (Layers.Length == 1 && Layers[0].Shape is { } shape)
        {
            return includeHidden ? shape.AllSorted : shape.VisibleSorted;
        }
        if (includeHidden)
        {
            return _allSorted ??= Sort(Visibility.Keys);
        }
        return _visibleSorted ??= Sort(Visibility.Where(kv => kv.Value).Select(kv => kv.Key));
    }

    internal static string[] Sort(IEnumerable<string> names)
    {
        var a = names.ToArray();
        Array.Sort(a, StringOps.CodepointComparer);
        return a;
    }
}

/// <summary>The fields of an object literal with fixed names, computed once per literal.</summary>
internal sealed class LayerShape
{
    public LayerShape(Dictionary<string, ObjectField> fields)
    {
        Fields = fields;
        Visibility = new Dictionary<string, bool>(fields.Count, StringComparer.Ordinal);
        foreach (var f in fields.Values)
        {
            Visibility[f.Name] = f.Visibility != FieldVisibility.Hidden;
        }
        AllSorted = ObjectValue.Sort(fields.Keys);
        VisibleSorted = AllSorted.Where(n => Visibility[n]).ToArray();
    }

    public Dictionary<string, ObjectField> Fields { get; }

    public Dictionary<string, bool> Visibility { get; }

    public string[] AllSorted { get; }

    public string[] VisibleSorted { get; }
}
