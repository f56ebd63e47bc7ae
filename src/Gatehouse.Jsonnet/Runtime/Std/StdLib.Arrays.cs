using Gatehouse.Jsonnet.Syntax;
using System.Text;

namespace Gatehouse.Jsonnet.Runtime;

internal static partial class StdLib
{
    private static Thunk[] Elements(Evaluator ev, Value v, string fn)
    {
        return v switch
        {
            ArrayValue a => a.Items,
            StringValue s => StringOps.Codepoints(s.Value).Select(cp => (Thunk)S(StringOps.FromCodepoint(cp))).ToArray(),
            _ => throw ev.Error($"std.{fn} second param must be array / string, got {v.TypeName}", null),
        };
    }

    private static void RegisterArrays(Registry r)
    {
        r.Add("makeArray", ["sz", "func"], (ev, a) =>
        {
            var sz = Num(ev, a, 0, "makeArray");
            if (sz < 0)
            {
                throw ev.Error($"makeArray requires size >= 0, got {Format.Number(sz)}", null);
            }
            if (sz != Math.Floor(sz))
            {
                throw ev.Error($"makeArray requires an integer size, got {Format.Number(sz)}", null);
            }
            var f = Fn(ev, a, 1, "makeArray");
            ev.Charge((long)sz);
            var items = new Thunk[(int)sz];
            for (var i = 0; i < items.Length; i++)
            {
                var index = N(i);
                items[i] = new DelegateThunk(() => ev.Call(f, index));
            }
            return new ArrayValue(items);
        });
        r.Add("range", ["from", "to"], (ev, a) =>
        {
            var from = Num(ev, a, 0, "range");
            var to = Num(ev, a, 1, "range");
            if (to < from)
            {
                return ArrayValue.Empty;
            }
            ev.Charge((long)Math.Min(to - from + 1, long.MaxValue / 2));
            var items = new Thunk[(int)(to - from + 1)];
            for (var i = 0; i < items.Length; i++)
            {
                items[i] = N(from + i);
            }
            return new ArrayValue(items);
        });
        r.Add("repeat", ["what", "count"], (ev, a) =>
        {
            var count = Int(ev, a, 1, "repeat");
            if (count < 0)
            {
                throw ev.Error("repeat count must be non-negative", null);
            }
            switch (Arg(a, 0))
            {
                case StringValue s:
                    ev.Charge(s.Value.Length * (long)count);
                    return S(new StringBuilder(s.Value.Length * count).Insert(0, s.Value, count).ToString());
                case ArrayValue arr:
                {
                    ev.Charge(arr.Length * (long)count);
                    var items = new Thunk[arr.Length * count];
                    for (var i = 0; i < count; i++)
                    {
                        arr.Items.CopyTo(items, i * arr.Length);
                    }
                    return new ArrayValue(items);
                }
                default:
                    throw ev.Error("std.repeat first argument must be an array or a string", null);
            }
        });
        r.Add("member", ["arr", "x"], (ev, a) =>
        {
            var x = Arg(a, 1);
            return Arg(a, 0) switch
            {
                ArrayValue arr => BoolValue.Of(arr.Items.Any(t => ev.Equal(t.Force(), x, null))),
                StringValue s => BoolValue.Of(x is StringValue xs && s.Value.Contains(xs.Value, StringComparison.Ordinal)),
                var v => throw ev.Error($"std.member first argument must be an array or a string, got {v.TypeName}", null),
            };
        });
        r.Add("contains", ["arr", "elem"], (ev, a) =>
        {
            var x = Arg(a, 1);
            return BoolValue.Of(Arr(ev, a, 0, "contains").Items.Any(t => ev.Equal(t.Force(), x, null)));
        });
        r.Add("count", ["arr", "x"], (ev, a) =>
        {
            var x = Arg(a, 1);
            return N(Arr(ev, a, 0, "count").Items.Count(t => ev.Equal(t.Force(), x, null)));
        });
        r.Add("find", ["value", "arr"], (ev, a) =>
        {
            var x = Arg(a, 0);
            var arr = Arr(ev, a, 1, "find");
            var result = new List<Thunk>();
            for (var i = 0; i < arr.Length; i++)
            {
                if (ev.Equal(arr.Items[i].Force(), x, null))
                {
                    result.Add(N(i));
                }
            }
            return A(result);
        });
        r.Add("map", ["func", "arr"], (ev, a) =>
        {
            var f = Fn(ev, a, 0, "map");
            var src = Elements(ev, Arg(a, 1), "map");
            var items = new Thunk[src.Length];
            for (var i = 0; i < items.Length; i++)
            {
                var e = src[i];
                items[i] = new DelegateThunk(() => ev.Call(f, e));
            }
            return new ArrayValue(items);
        });
        r.Add("mapWithIndex", ["func", "arr"], (ev, a) =>
        {
            var f = Fn(ev, a, 0, "mapWithIndex");
            var src = Elements(ev, Arg(a, 1), "mapWithIndex");
            var items = new Thunk[src.Length];
            for (var i = 0; i < items.Length; i++)
            {
                var e = src[i];
                var index = N(i);
                items[i] = new DelegateThunk(() => ev.Call(f, index, e));
            }
            return new ArrayValue(items);
        });
        r.Add("filter", ["func", "arr"], (ev, a) =>
        {
            var f = Fn(ev, a, 0, "filter");
            var arr = Arr(ev, a, 1, "filter");
            var result = new List<Thunk>();
            foreach (var e in arr.Items)
            {
                var keep = ev.Call(f, e);
                if (keep is not BoolValue b)
                {
                    throw ev.Error($"filter function must return boolean, got: {keep.TypeName}", null);
                }
                if (b.Value)
                {
                    result.Add(e);
                }
            }
            return A(result);
        });
        r.Add("filterMap", ["filter_func", "map_func", "arr"], (ev, a) =>
        {
            var filter = Fn(ev, a, 0, "filterMap");
            var map = Fn(ev, a, 1, "filterMap");
            var arr = Arr(ev, a, 2, "filterMap");
            var result = new List<Thunk>();
            foreach (var e in arr.Items)
            {
                var keep = ev.Call(filter, e);
                if (keep is not BoolValue b)
                {
                    throw ev.Error($"filter function must return boolean, got: {keep.TypeName}", null);
                }
                if (b.Value)
                {
                    var captured = e;
                    result.Add(new DelegateThunk(() => ev.Call(map, captured)));
                }
            }
            return A(result);
        });
        r.Add("flatMap", ["func", "arr"], (ev, a) =>
        {
            var f = Fn(ev, a, 0, "flatMap");
            switch (Arg(a, 1))
            {
                case ArrayValue arr:
                {
                    var result = new List<Thunk>();
                    foreach (var e in arr.Items)
                    {
                        var v = ev.Call(f, e);
                        if (v is NullValue)
                        {
                            continue;
                        }
                        if (v is not ArrayValue va)
                        {
                            throw ev.Error($"std.flatMap on arrays, provided function must return an array, got {v.TypeName}", null);
                        }
                        result.AddRange(va.Items);
                    }
                    return A(result);
                }
                case StringValue s:
                {
                    var sb = new StringBuilder();
                    foreach (var cp in StringOps.Codepoints(s.Value))
                    {
                        var v = ev.Call(f, S(StringOps.FromCodepoint(cp)));
                        if (v is NullValue)
                        {
                            continue;
                        }
                        if (v is not StringValue vs)
                        {
                            throw ev.Error($"std.flatMap on strings, provided function must return a string, got {v.TypeName}", null);
                        }
                        sb.Append(vs.Value);
                    }
                    return S(sb.ToString());
                }
                case var v:
                    throw ev.Error($"std.flatMap second param must be array / string, got {v.TypeName}", null);
            }
        });
        r.Add("foldl", ["func", "arr", "init"], (ev, a) =>
        {
            var f = Fn(ev, a, 0, "foldl");
            var acc = Arg(a, 2);
            foreach (var e in Elements(ev, Arg(a, 1), "foldl"))
            {
                acc = ev.Call(f, acc, e);
            }
            return acc;
        });
        r.Add("foldr", ["func", "arr", "init"], (ev, a) =>
        {
            var f = Fn(ev, a, 0, "foldr");
            var acc = Arg(a, 2);
            var items = Elements(ev, Arg(a, 1), "foldr");
            for (var i = items.Length - 1; i >= 0; i--)
            {
                acc = ev.Call(f, items[i], acc);
            }
            return acc;
        });
        r.Add("join", ["sep", "arr"], (ev, a) =>
        {
            var sep = Arg(a, 0);
            var arr = Arr(ev, a, 1, "join");
            if (sep is StringValue ss)
            {
                var sb = new StringBuilder();
                var first = true;
                for (var i = 0; i < arr.Length; i++)
                {
                    var v = arr.Items[i].Force();
                    if (v is NullValue)
                    {
                        continue;
                    }
                    if (v is not StringValue vs)
                    {
                        throw ev.Error($"expected string but arr[{i}] was {v.TypeName}", null);
                    }
                    if (!first)
                    {
                        sb.Append(ss.Value);
                    }
                    first = false;
                    sb.Append(vs.Value);
                    ev.Charge(vs.Value.Length);
                    ev.CheckSize(sb.Length);
                }
                return S(sb.ToString());
            }
            if (sep is ArrayValue sa)
            {
                var result = new List<Thunk>();
                var first = true;
                for (var i = 0; i < arr.Length; i++)
                {
                    var v = arr.Items[i].Force();
                    if (v is NullValue)
                    {
                        continue;
                    }
                    if (v is not ArrayValue va)
                    {
                        throw ev.Error($"expected array but arr[{i}] was {v.TypeName}", null);
                    }
                    if (!first)
                    {
                        result.AddRange(sa.Items);
                    }
                    first = false;
                    result.AddRange(va.Items);
                    ev.Charge(va.Length);
                    ev.CheckSize(result.Count);
                }
                return A(result);
            }
            throw ev.Error($"join first parameter should be string or array, got {sep.TypeName}", null);
        });
        r.Add("lines", ["arr"], (ev, a) =>
        {
            var arr = Arr(ev, a, 0, "lines");
            var sb = new StringBuilder();
            for (var i = 0; i < arr.Length; i++)
            {
                var v = arr.Items[i].Force();
                if (v is NullValue)
                {
                    continue;
                }
                if (v is not StringValue vs)
                {
                    throw ev.Error($"expected string but arr[{i}] was {v.TypeName}", null);
                }
                sb.Append(vs.Value).Append('\n');
            }
            return S(sb.ToString());
        });
        r.Add("deepJoin", ["arr"], (ev, a) =>
        {
            var sb = new StringBuilder();
            void Walk(Value v)
            {
                ev.EnsureStack();
                switch (v)
                {
                    case StringValue s:
                        sb.Append(s.Value);
                        break;
                    case ArrayValue arr:
                        foreach (var e in arr.Items)
                        {
                            Walk(e.Force());
                        }
                        break;
                    default:
                        throw ev.Error($"Expected string or array, got {v.TypeName}", null);
                }
            }
            Walk(Arg(a, 0));
            return S(sb.ToString());
        });
        r.Add("flattenArrays", ["arrs"], (ev, a) =>
        {
            var result = new List<Thunk>();
            foreach (var e in Arr(ev, a, 0, "flattenArrays").Items)
            {
                var v = e.Force();
                if (v is NullValue)
                {
                    continue;
                }
                if (v is not ArrayValue va)
                {
                    throw ev.Error($"expected array but got {v.TypeName}", null);
                }
                result.AddRange(va.Items);
            }
            return A(result);
        });
        r.Add("flattenDeepArray", ["value"], (ev, a) =>
        {
            var result = new List<Thunk>();
            void Walk(Value v)
            {
                ev.EnsureStack();
                if (v is ArrayValue arr)
                {
                    foreach (var e in arr.Items)
                    {
                        Walk(e.Force());
                    }
                }
                else
                {
                    result.Add(v);
                }
            }
            Walk(Arg(a, 0));
            return A(result);
        });
        r.Add("reverse", ["arr"], (ev, a) =>
        {
            var items = (Thunk[])Arr(ev, a, 0, "reverse").Items.Clone();
            Array.Reverse(items);
            return new ArrayValue(items);
        });
        r.Add("slice", ["indexable", "index", "end", "step"], (ev, a) => Slice(ev, Arg(a, 0), Arg(a, 1), Arg(a, 2), Arg(a, 3)));
        r.Add("removeAt", ["arr", "at"], (ev, a) =>
        {
            var arr = Arr(ev, a, 0, "removeAt");
            var at = Num(ev, a, 1, "removeAt");
            return A(arr.Items.Where((_, i) => i != at).ToList());
        });
        r.Add("remove", ["arr", "elem"], (ev, a) =>
        {
            var arr = Arr(ev, a, 0, "remove");
            var x = Arg(a, 1);
            for (var i = 0; i < arr.Length; i++)
            {
                if (ev.Equal(arr.Items[i].Force(), x, null))
                {
                    return A(arr.Items.Where((_, j) => j != i).ToList());
                }
            }
            return arr;
        });
        r.Add("all", ["arr"], (ev, a) =>
        {
            foreach (var e in Arr(ev, a, 0, "all").Items)
            {
                var v = e.Force();
                if (v is not BoolValue b)
                {
                    throw ev.Error($"Expected boolean, got {v.TypeName}", null);
                }
                if (!b.Value)
                {
                    return BoolValue.False;
                }
            }
            return BoolValue.True;
        });
        r.Add("any", ["arr"], (ev, a) =>
        {
            foreach (var e in Arr(ev, a, 0, "any").Items)
            {
                var v = e.Force();
                if (v is not BoolValue b)
                {
                    throw ev.Error($"Expected boolean, got {v.TypeName}", null);
                }
                if (b.Value)
                {
                    return BoolValue.True;
                }
            }
            return BoolValue.False;
        });
        r.Add("sum", ["arr"], (ev, a) =>
        {
            double sum = 0;
            foreach (var e in Arr(ev, a, 0, "sum").Items)
            {
                sum += e.Force() is NumberValue n ? n.Value : throw ev.Error("sum requires an array of numbers", null);
            }
            return ev.Number(sum, null);
        });
        r.Add("avg", ["arr"], (ev, a) =>
        {
            var arr = Arr(ev, a, 0, "avg");
            if (arr.Length == 0)
            {
                throw ev.Error("Cannot calculate average of an empty array.", null);
            }
            double sum = 0;
            foreach (var e in arr.Items)
            {
                sum += e.Force() is NumberValue n ? n.Value : throw ev.Error("avg requires an array of numbers", null);
            }
            return ev.Number(sum / arr.Length, null);
        });
        r.Add("minArray", ["arr", "keyF", "onEmpty"], 1, (ev, a) => Extreme(ev, a, "minArray", -1));
        r.Add("maxArray", ["arr", "keyF", "onEmpty"], 1, (ev, a) => Extreme(ev, a, "maxArray", 1));
        r.Add("sort", ["arr", "keyF"], 1, (ev, a) => new ArrayValue(Sort(ev, Elements(ev, Arg(a, 0), "sort"), OptFn(ev, a, 1, "sort"))));
        r.Add("uniq", ["arr", "keyF"], 1, (ev, a) => new ArrayValue(Uniq(ev, Arr(ev, a, 0, "uniq").Items, OptFn(ev, a, 1, "uniq"))));
        r.Add("set", ["arr", "keyF"], 1, (ev, a) =>
        {
            var keyF = OptFn(ev, a, 1, "set");
            return new ArrayValue(Uniq(ev, Sort(ev, Elements(ev, Arg(a, 0), "set"), keyF), keyF));
        });
        r.Add("setMember", ["x", "arr", "keyF"], 2, (ev, a) =>
        {
            var keyF = OptFn(ev, a, 2, "setMember");
            var key = Key(ev, keyF, a[0]!);
            var arr = Elements(ev, Arg(a, 1), "setMember");
            int lo = 0, hi = arr.Length - 1;
            while (lo <= hi)
            {
                var mid = (lo + hi) / 2;
                var c = ev.Compare(Key(ev, keyF, arr[mid]), key, null);
                if (c == 0)
                {
                    return BoolValue.True;
                }
                if (c < 0)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid - 1;
                }
            }
            return BoolValue.False;
        });
        r.Add("setInter", ["a", "b", "keyF"], 2, (ev, a) => SetOp(ev, a, "setInter", 0));
        r.Add("setUnion", ["a", "b", "keyF"], 2, (ev, a) => SetOp(ev, a, "setUnion", 1));
        r.Add("setDiff", ["a", "b", "keyF"], 2, (ev, a) => SetOp(ev, a, "setDiff", 2));
    }

    private static Value Key(Evaluator ev, FunctionValue? keyF, Thunk t) => keyF is null ? t.Force() : ev.Call(keyF, t);

    private static Thunk[] Sort(Evaluator ev, Thunk[] items, FunctionValue? keyF)
    {
        ev.Charge(items.Length * (long)Math.Max(1, (int)Math.Log2(items.Length + 1)));
        var keys = new Value[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            keys[i] = Key(ev, keyF, items[i]);
        }
        var allNumbers = keys.All(k => k is NumberValue);
        var allStrings = !allNumbers && keys.All(k => k is StringValue);
        if (!allNumbers && !allStrings && keys.Length > 0)
        {
            foreach (var k in keys)
            {
                if (k is not ArrayValue)
                {
                    throw ev.Error("Unexpected type " + k.TypeName + " for sort.", null);
                }
            }
        }
        var order = Enumerable.Range(0, items.Length).ToArray();
        Comparison<int> cmp = allNumbers
            ? (x, y) => ((NumberValue)keys[x]).Value.CompareTo(((NumberValue)keys[y]).Value)
            : allStrings
                ? (x, y) => StringOps.CompareCodepoints(((StringValue)keys[x]).Value, ((StringValue)keys[y]).Value)
                : (x, y) => ev.Compare(keys[x], keys[y], null);
        // A stable merge sort (LINQ's OrderBy is stable).
        var sorted = order.OrderBy(i => i, Comparer<int>.Create(cmp)).ToArray();
        var result = new Thunk[items.Length];
        for (var i = 0; i < sorted.Length; i++)
        {
            result[i] = items[sorted[i]];
        }
        return result;
    }

    private static Thunk[] Uniq(Evaluator ev, Thunk[] items, FunctionValue? keyF)
    {
        var result = new List<Thunk>();
        Value? last = null;
        foreach (var item in items)
        {
            var key = Key(ev, keyF, item);
            if (last is null || !ev.Equal(last, key, null))
            {
                result.Add(item);
            }
            last = key;
        }
        return result.ToArray();
    }

    private static ArrayValue SetOp(Evaluator ev, Thunk?[] a, string fn, int kind)
    {
        var keyF = OptFn(ev, a, 2, fn);
        var x = Elements(ev, Arg(a, 0), fn);
        var y = Elements(ev, Arg(a, 1), fn);
        var result = new List<Thunk>();
        int i = 0, j = 0;
        while (i < x.Length && j < y.Length)
        {
            var c = ev.Compare(Key(ev, keyF, x[i]), Key(ev, keyF, y[j]), null);
            if (c == 0)
            {
                if (kind != 2)
                {
                    result.Add(x[i]);
                }
                i++;
                j++;
            }
            else if (c < 0)
            {
                if (kind != 0)
                {
                    result.Add(x[i]);
                }
                i++;
            }
            else
            {
                if (kind == 1)
                {
                    result.Add(y[j]);
                }
                j++;
            }
        }
        if (kind != 0)
        {
            for (; i < x.Length; i++)
            {
                result.Add(x[i]);
            }
        }
        if (kind == 1)
        {
            for (; j < y.Length; j++)
            {
                result.Add(y[j]);
            }
        }
        return A(result);
    }

    private static Value Extreme(Evaluator ev, Thunk?[] a, string fn, int sign)
    {
        var arr = Arr(ev, a, 0, fn);
        var keyF = OptFn(ev, a, 1, fn);
        if (arr.Length == 0)
        {
            if (a[2] is not null)
            {
                return a[2]!.Force();
            }
            throw ev.Error("Expected at least one element in array. Got none", null);
        }
        var best = arr.Items[0];
        var bestKey = Key(ev, keyF, best);
        for (var i = 1; i < arr.Length; i++)
        {
            var k = Key(ev, keyF, arr.Items[i]);
            if (ev.Compare(k, bestKey, null) * sign > 0)
            {
                best = arr.Items[i];
                bestKey = k;
            }
        }
        return best.Force();
    }

    public static Value Slice(Evaluator ev, Value indexable, Value index, Value end, Value step)
    {
        int length;
        int[]? cps = null;
        switch (indexable)
        {
            case ArrayValue arr:
                length = arr.Length;
                break;
            case StringValue s:
                cps = StringOps.Codepoints(s.Value);
                length = cps.Length;
                break;
            default:
                throw ev.Error($"std.slice accepts a string or an array, but got: {indexable.TypeName}", null);
        }
        double Get(Value v, string what, double def)
        {
            return v switch
            {
                NullValue => def,
                NumberValue n => n.Value,
                _ => throw ev.Error($"std.slice {what} must be a number, got {v.TypeName}", null),
            };
        }
        var st = Get(step, "step", 1);
        if (st <= 0)
        {
            throw ev.Error($"got [{Format.Number(Get(index, "index", 0))}:{Format.Number(Get(end, "end", length))}:{Format.Number(st)}] but negative steps are not supported", null);
        }
        var from = Get(index, "index", 0);
        var to = Get(end, "end", length);
        if (from < 0)
        {
            from = Math.Max(0, length + from);
        }
        if (to < 0)
        {
            to = length + to;
        }
        from = Math.Min(from, length);
        to = Math.Min(to, length);
        var stepI = (int)st;
        if (indexable is ArrayValue av)
        {
            var items = new List<Thunk>();
            for (var i = (int)from; i < to; i += stepI)
            {
                items.Add(av.Items[i]);
            }
            return A(items);
        }
        var sb = new StringBuilder();
        for (var i = (int)from; i < to; i += stepI)
        {
            sb.Append(StringOps.FromCodepoint(cps![i]));
        }
        return S(sb.ToString());
    }
}
