using Gatehouse.Jsonnet.Syntax;

namespace Gatehouse.Jsonnet.Runtime;

internal static partial class StdLib
{
    private static void RegisterObjects(Registry r)
    {
        r.Add("objectHas", ["o", "f"], (ev, a) => BoolValue.Of(Obj(ev, a, 0, "objectHas").HasField(Str(ev, a, 1, "objectHas"), false)));
        r.Add("objectHasAll", ["o", "f"], (ev, a) => BoolValue.Of(Obj(ev, a, 0, "objectHasAll").HasField(Str(ev, a, 1, "objectHasAll"), true)));
        r.Add("objectHasEx", ["obj", "fname", "hidden"], (ev, a) => BoolValue.Of(Obj(ev, a, 0, "objectHasEx").HasField(Str(ev, a, 1, "objectHasEx"), Bool(ev, a, 2, "objectHasEx"))));
        r.Add("objectFields", ["o"], (ev, a) => Names(Obj(ev, a, 0, "objectFields"), false));
        r.Add("objectFieldsAll", ["o"], (ev, a) => Names(Obj(ev, a, 0, "objectFieldsAll"), true));
        r.Add("objectFieldsEx", ["obj", "hidden"], (ev, a) => Names(Obj(ev, a, 0, "objectFieldsEx"), Bool(ev, a, 1, "objectFieldsEx")));
        r.Add("objectValues", ["o"], (ev, a) => Values(ev, Obj(ev, a, 0, "objectValues"), false));
        r.Add("objectValuesAll", ["o"], (ev, a) => Values(ev, Obj(ev, a, 0, "objectValuesAll"), true));
        r.Add("objectKeysValues", ["o"], (ev, a) => KeysValues(ev, Obj(ev, a, 0, "objectKeysValues"), false));
        r.Add("objectKeysValuesAll", ["o"], (ev, a) => KeysValues(ev, Obj(ev, a, 0, "objectKeysValuesAll"), true));
        r.Add("objectRemoveKey", ["obj", "key"], (ev, a) =>
        {
            var obj = Obj(ev, a, 0, "objectRemoveKey");
            var key = Str(ev, a, 1, "objectRemoveKey");
            return new ObjectValue([.. obj.Layers, ObjectLayer.Mask(key, obj.Layers.Length)]);
        });
        r.Add("get", ["o", "f", "default", "inc_hidden"], 2, (ev, a) =>
        {
            var o = Obj(ev, a, 0, "get");
            var f = Str(ev, a, 1, "get");
            var incHidden = a[3] is null || Bool(ev, a, 3, "get");
            if (o.HasField(f, incHidden))
            {
                return ev.Index(o, S(f), null);
            }
            return a[2]?.Force() ?? NullValue.Instance;
        });
        r.Add("mapWithKey", ["func", "obj"], (ev, a) =>
        {
            var f = Fn(ev, a, 0, "mapWithKey");
            var obj = Obj(ev, a, 1, "mapWithKey");
            var fields = new List<KeyValuePair<string, Thunk>>();
            foreach (var name in obj.FieldNames(false))
            {
                var n = name;
                fields.Add(new(n, new DelegateThunk(() => ev.Call(f, S(n), new DelegateThunk(() => ev.GetField(obj, n, null))))));
            }
            return ObjectValue.FromConstants(fields);
        });
        r.Add("prune", ["a"], (ev, a) => Prune(ev, Arg(a, 0)) ?? NullValue.Instance);
        r.Add("mergePatch", ["target", "patch"], (ev, a) => MergePatch(ev, Arg(a, 0), Arg(a, 1)));
    }

    private static ArrayValue Names(ObjectValue o, bool all) => A(o.FieldNames(all).Select(n => (Value)S(n)));

    private static ArrayValue Values(Evaluator ev, ObjectValue o, bool all)
    {
        var names = o.FieldNames(all);
        var items = new Thunk[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            var n = names[i];
            items[i] = new DelegateThunk(() => ev.Index(o, S(n), null));
        }
        return new ArrayValue(items);
    }

    private static ArrayValue KeysValues(Evaluator ev, ObjectValue o, bool all)
    {
        var names = o.FieldNames(all);
        var items = new Thunk[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            var n = names[i];
            items[i] = ObjectValue.FromConstants(
            [
                new("key", S(n)),
                new("value", new DelegateThunk(() => ev.Index(o, S(n), null))),
            ]);
        }
        return new ArrayValue(items);
    }

    private static bool IsPrunable(Value v) => v is NullValue || (v is ArrayValue a && a.Length == 0) || (v is ObjectValue o && o.FieldNames(false).Length == 0);

    private static Value? Prune(Evaluator ev, Value v)
    {
        ev.EnsureStack();
        switch (v)
        {
            case ArrayValue arr:
            {
                var items = new List<Thunk>();
                foreach (var e in arr.Items)
                {
                    var p = Prune(ev, e.Force());
                    if (p is not null && !IsPrunable(p))
                    {
                        items.Add(p);
                    }
                }
                return A(items);
            }
            case ObjectValue obj:
            {
                var fields = new List<KeyValuePair<string, Thunk>>();
                foreach (var name in obj.FieldNames(false))
                {
                    var p = Prune(ev, ev.Index(obj, S(name), null));
                    if (p is not null && !IsPrunable(p))
                    {
                        fields.Add(new(name, p));
                    }
                }
                return ObjectValue.FromConstants(fields);
            }
            default:
                return v;
        }
    }

    private static Value MergePatch(Evaluator ev, Value target, Value patch)
    {
        ev.EnsureStack();
        if (patch is not ObjectValue po)
        {
            return patch;
        }
        var to = target as ObjectValue;
        var fields = new List<KeyValuePair<string, Thunk>>();
        var targetNames = to?.FieldNames(false) ?? [];
        var patchNames = po.FieldNames(false);
        var all = new SortedSet<string>(targetNames, StringOps.CodepointComparer);
        all.UnionWith(patchNames);
        foreach (var name in all)
        {
            var inPatch = po.HasField(name, false);
            var inTarget = to is not null && to.HasField(name, false);
            if (!inPatch)
            {
                var n = name;
                fields.Add(new(name, new DelegateThunk(() => ev.Index(to!, S(n), null))));
                continue;
            }
            var pv = ev.Index(po, S(name), null);
            if (pv is NullValue)
            {
                continue;
            }
            if (inTarget)
            {
                fields.Add(new(name, MergePatch(ev, ev.Index(to!, S(name), null), pv)));
            }
            else
            {
                fields.Add(new(name, MergePatch(ev, NullValue.Instance, pv)));
            }
        }
        return ObjectValue.FromConstants(fields);
    }

    /// <summary>Builds a plain object from evaluated values (JSON parsing, natives).</summary>
    public static ObjectValue MakeObject(IEnumerable<KeyValuePair<string, Thunk>> fields) => ObjectValue.FromConstants(fields, FieldVisibility.Inherit);
}
