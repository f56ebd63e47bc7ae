using System.Diagnostics;
using System.Runtime.CompilerServices;
using Gatehouse.Jsonnet.Syntax;

namespace Gatehouse.Jsonnet.Runtime;

/// <summary>Evaluates one program: holds the call stack, the limits and the import cache for one run.</summary>
internal sealed partial class Evaluator
{
    private readonly JsonnetEngine _engine;
    private readonly JsonnetEvaluationOptions _options;
    private Node?[] _sites = new Node?[32];
    private string?[] _kinds = new string?[32];
    private string?[] _labels = new string?[32];
    private readonly int _maxDepth;
    private readonly long _maxSteps;
    private readonly long _deadline;
    private readonly CancellationToken _cancellation;
    private readonly long _allocationLimit;
    private readonly Dictionary<string, Value> _imports = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Thunk> _extVars = new(StringComparer.Ordinal);
    private int _depth;

    // Where the next thunk is being forced from (a variable or an index), for stack traces.
    private Node? _forceSite;
    private long _steps;

    public Evaluator(JsonnetEngine engine, JsonnetEvaluationOptions options, CancellationToken cancellation)
    {
        _engine = engine;
        _options = options;
        _maxDepth = options.MaxStackFrames;
        _maxSteps = options.MaxSteps <= 0 ? long.MaxValue : options.MaxSteps;
        _deadline = options.Timeout is { } t ? Stopwatch.GetTimestamp() + (long)(t.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        _cancellation = cancellation;
        _allocationLimit = options.MaxAllocatedBytes <= 0 ? long.MaxValue : GC.GetAllocatedBytesForCurrentThread() + options.MaxAllocatedBytes;
        Std = StdLib.Shared;
        foreach (var (name, value) in options.ExtVars)
        {
            _extVars[name] = MakeExternal(name, value, "ext");
        }
    }

    public ObjectValue Std { get; }

    public JsonnetEvaluationOptions Options => _options;

    public Thunk? ExtVar(string name) => _extVars.GetValueOrDefault(name);

    public Thunk MakeExternal(string name, ExternalValue value, string kind)
    {
        switch (value.Kind)
        {
            case ExternalValueKind.String:
                return new StringValue(value.Text);
            case ExternalValueKind.Json:
                return new DelegateThunk(() =>
                {
                    try
                    {
                        using var doc = System.Text.Json.JsonDocument.Parse(value.Text);
                        return StdLib.FromJson(doc.RootElement);
                    }
                    catch (System.Text.Json.JsonException e)
                    {
                        throw Error($"{kind} variable {name} is not valid JSON: {e.Message}", null);
                    }
                });
        }
        var file = $"<{kind}var:{name}>";
        return new DelegateThunk(() =>
        {
            var program = _engine.ParseCached(file, value.Text);
            return Eval(program, RootEnv(file));
        });
    }

    // ---------------------------------------------------------------- errors and frames

    public JsonnetException Error(string message, Node? at)
    {
        var lines = new List<string>();
        var top = _depth > 0 ? FrameName(_depth - 1) : null;
        if (at is not null)
        {
            lines.Add($"{at.Location}\t{top ?? ""}");
        }
        for (var i = _depth - 1; i >= 0; i--)
        {
            var site = _sites[i];
            var name = i > 0 ? FrameName(i - 1) : null;
            if (site is null)
            {
                if (_kinds[i] is null && _labels[i] is { } n && (lines.Count == 0 || lines[^1] != n + "\t"))
                {
                    lines.Add(n + "\t");
                }
                continue;
            }
            lines.Add($"{site.Location}\t{name ?? ""}");
        }
        if (lines.Count > 20)
        {
            lines = [.. lines.Take(10), "...", .. lines.Skip(lines.Count - 10)];
        }
        var location = at?.Location;
        for (var i = _depth - 1; location is null && i >= 0; i--)
        {
            location = _sites[i]?.Location;
        }
        return new JsonnetException(JsonnetErrorKind.Runtime, message, location, lines);
    }

    /// <summary>Enters a frame: <paramref name="kind"/> is "function", "thunk", "object"...; null for a bare label such as "During manifestation".</summary>
    public void Push(Node? site, string? kind, string label)
    {
        if (_depth >= _maxDepth || !RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw Error("max stack frames exceeded.", site);
        }
        if (_depth == _sites.Length)
        {
            var size = Math.Min(_sites.Length * 2, _maxDepth + 1);
            Array.Resize(ref _sites, size);
            Array.Resize(ref _kinds, size);
            Array.Resize(ref _labels, size);
        }
        _sites[_depth] = site;
        _kinds[_depth] = kind;
        _labels[_depth] = label;
        _depth++;
    }

    /// <summary>Fails cleanly, with a stack trace, when the thread's own stack runs low.</summary>
    public void EnsureStack()
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw Error("max stack frames exceeded.", null);
        }
    }

    private string FrameName(int i) => _kinds[i] is { } kind ? kind + " <" + _labels[i] + ">" : "";

    public void Pop() => _depth--;

    /// <summary>The call site of the innermost frame (for std.trace).</summary>
    public Node? CurrentSite => _depth > 0 ? _sites[_depth - 1] : null;

    public void ResetStack() => _depth = 0;

    /// <summary>
    /// Accounts for work done inside a built-in (n elements or characters produced) and refuses values
    /// larger than <see cref="JsonnetEvaluationOptions.MaxValueLength"/>, so that no single call can exhaust memory.
    /// </summary>
    public void Charge(long n, Node? at = null)
    {
        CheckSize(n, at);
        var before = _steps;
        _steps += n;
        if (_steps > _maxSteps)
        {
            throw Error($"evaluation exceeded the limit of {_maxSteps} steps.", at);
        }
        if ((before >> 12) != (_steps >> 12))
        {
            CheckClock();
        }
    }

    /// <summary>Refuses a value of more than <see cref="JsonnetEvaluationOptions.MaxValueLength"/> elements or characters.</summary>
    public void CheckSize(long n, Node? at = null)
    {
        if (n > 4096)
        {
            CheckClock();
        }
        var max = _options.MaxValueLength;
        if (max > 0 && n > max)
        {
            throw Error($"value too large: {n} elements or characters, the limit is {max}.", at);
        }
    }

    private void CheckClock()
    {
        if (GC.GetAllocatedBytesForCurrentThread() > _allocationLimit)
        {
            throw Error($"evaluation exceeded the memory limit of {_options.MaxAllocatedBytes} allocated bytes.", null);
        }
        if (_cancellation.IsCancellationRequested)
        {
            throw Error("evaluation was cancelled.", null);
        }
        if (Stopwatch.GetTimestamp() > _deadline)
        {
            throw Error($"evaluation exceeded the time limit of {_options.Timeout!.Value.TotalMilliseconds} ms.", null);
        }
    }

    private void Step()
    {
        if (++_steps > _maxSteps)
        {
            throw Error($"evaluation exceeded the limit of {_maxSteps} steps.", null);
        }
        if ((_steps & 0xFFF) == 0)
        {
            CheckClock();
        }
    }

    // ---------------------------------------------------------------- environments

    public Env RootEnv(string file)
    {
        var thisFile = new Dictionary<string, ObjectField>(StringComparer.Ordinal)
        {
            ["thisFile"] = new ObjectField("thisFile", FieldVisibility.Hidden, false, null, null, new StringValue(file)),
        };
        var std = new ObjectValue([.. Std.Layers, ObjectLayer.Constant(thisFile)]);
        return new Env("std", std, new Env("$std", Std, null));
    }

    public Value EvalThunk(Node expr, Env env, string? name)
    {
        var site = _forceSite ?? expr;
        _forceSite = null;
        Push(site, "thunk", name ?? "anonymous");
        var v = Eval(expr, env);
        _depth--;
        return v;
    }

    private Thunk MakeThunk(Node node, Env env, string? name = null)
    {
        switch (node.Kind)
        {
            case NodeKind.Null: return NullValue.Instance;
            case NodeKind.True: return BoolValue.True;
            case NodeKind.False: return BoolValue.False;
            case NodeKind.Number:
            {
                var n = (NumberNode)node;
                return n.Constant ??= NumberValue.Of(n.Value);
            }
            case NodeKind.String:
            {
                var s = (StringNode)node;
                return s.Constant ??= new StringValue(s.Value);
            }
            case NodeKind.Var:
                return env.Lookup(((VarNode)node).Name) ?? throw Error("Unknown variable: " + ((VarNode)node).Name, node);
            case NodeKind.Function:
                return new ClosureValue((FunctionNode)node, env);
            default:
                return new LazyThunk(this, node, env, name);
        }
    }

    private Env BindLocals(Bind[] binds, Env env)
    {
        if (binds.Length == 1 && binds[0].Body.Kind is not (NodeKind.Function or NodeKind.Var))
        {
            var b = binds[0];
            var t = new LazyThunk(this, b.Body, null, b.Name);
            var e = new Env(b.Name, t, env);
            t.Env = e;
            return e;
        }
        var pending = new List<LazyThunk>();
        var closures = new List<(int Index, FunctionNode Fn)>();
        var thunks = new Thunk?[binds.Length];
        var result = env;
        for (var i = 0; i < binds.Length; i++)
        {
            var b = binds[i];
            if (b.Body.Kind == NodeKind.Function)
            {
                closures.Add((i, (FunctionNode)b.Body));
                thunks[i] = null;
            }
            else
            {
                var t = new LazyThunk(this, b.Body, null, b.Name);
                pending.Add(t);
                thunks[i] = t;
            }
        }
        // Closures need the final environment; bind them through forwarding thunks.
        var forwards = new ForwardThunk[closures.Count];
        for (var c = 0; c < closures.Count; c++)
        {
            forwards[c] = new ForwardThunk();
            thunks[closures[c].Index] = forwards[c];
        }
        for (var i = 0; i < binds.Length; i++)
        {
            result = new Env(binds[i].Name, thunks[i], result);
        }
        foreach (var t in pending)
        {
            t.Env = result;
        }
        for (var c = 0; c < closures.Count; c++)
        {
            forwards[c].Target = new ClosureValue(closures[c].Fn, result);
        }
        return result;
    }

    private sealed class ForwardThunk : Thunk
    {
        public Value? Target { get; set; }

        public override Value Force() => Target!;
    }

    // ---------------------------------------------------------------- evaluation

    public Value Eval(Node node, Env env)
    {
        Step();
        switch (node.Kind)
        {
            case NodeKind.Null: return NullValue.Instance;
            case NodeKind.True: return BoolValue.True;
            case NodeKind.False: return BoolValue.False;
            case NodeKind.Number:
                return ((NumberNode)node).Constant ?? NumberConstant((NumberNode)node);
            case NodeKind.String:
            {
                var s = (StringNode)node;
                return s.Constant ??= new StringValue(s.Value);
            }
            case NodeKind.Self:
                return env.Self ?? throw Error("Can't use self outside of an object.", node);
            case NodeKind.Dollar:
                return (env.Lookup("$") ?? throw Error("No top-level object found.", node)).Force();
            case NodeKind.Var:
            {
                var t = env.Lookup(((VarNode)node).Name) ?? throw Error("Unknown variable: " + ((VarNode)node).Name, node);
                if (t is Value known)
                {
                    return known;
                }
                _forceSite = node;
                return t.Force();
            }
            case NodeKind.Array:
                return EvalArray((ArrayNode)node, env);
            case NodeKind.ArrayComprehension:
                return EvalArrayComprehension((ArrayComprehensionNode)node, env);
            case NodeKind.Object:
                return EvalObject((ObjectNode)node, env);
            case NodeKind.ObjectComprehension:
                return EvalObjectComprehension((ObjectComprehensionNode)node, env);
            case NodeKind.Index:
                return EvalIndex((IndexNode)node, env);
            case NodeKind.SuperIndex:
                return EvalSuperIndex((SuperIndexNode)node, env);
            case NodeKind.InSuper:
                return EvalInSuper((InSuperNode)node, env);
            case NodeKind.Apply:
                return EvalApply((ApplyNode)node, env);
            case NodeKind.Function:
                return new ClosureValue((FunctionNode)node, env);
            case NodeKind.Local:
            case NodeKind.If:
            case NodeKind.Assert:
                return EvalTail(node, env);
            case NodeKind.Binary:
                return EvalBinary((BinaryNode)node, env);
            case NodeKind.Unary:
                return EvalUnary((UnaryNode)node, env);
            case NodeKind.Error:
                throw EvalError((ErrorNode)node, env);
            case NodeKind.Import:
            case NodeKind.ImportStr:
            case NodeKind.ImportBin:
                return EvalImport((ImportNode)node);
            default:
                throw Error("unknown node " + node.Kind, node);
        }
    }

    // The cases of Eval live in methods of their own: Eval recurses deeply, and a small frame keeps
    // more Jsonnet frames within a thread's stack.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private NumberValue NumberConstant(NumberNode n)
    {
        if (double.IsInfinity(n.Value))
        {
            throw Error("overflow", n);
        }
        var v = NumberValue.Of(n.Value);
        n.Constant = v;
        return v;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ArrayValue EvalArray(ArrayNode a, Env env)
    {
        if (a.Elements.Length == 0)
        {
            return ArrayValue.Empty;
        }
        var items = new Thunk[a.Elements.Length];
        for (var i = 0; i < items.Length; i++)
        {
            items[i] = MakeThunk(a.Elements[i], env, "array_element");
        }
        return new ArrayValue(items);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ArrayValue EvalArrayComprehension(ArrayComprehensionNode ac, Env env)
    {
        var items = new List<Thunk>();
        Comprehend(ac, ac.Specs, 0, env, e => items.Add(MakeThunk(ac.Body, e, "array_element")));
        return new ArrayValue(items.ToArray());
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Value EvalIndex(IndexNode ix, Env env)
    {
        EnsureStack();
        var target = Eval(ix.Target, env);
        var index = Eval(ix.IndexExpr, env);
        return Index(target, index, ix);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Value EvalSuperIndex(SuperIndexNode si, Env env)
    {
        var name = Eval(si.IndexExpr, env);
        if (name is not StringValue s)
        {
            throw Error($"super index must be string, got {name.TypeName}.", si);
        }
        var self = env.Self!;
        var j = self.FindLayer(s.Value, env.SuperLevel - 1);
        if (j < 0)
        {
            throw Error("field does not exist: " + s.Value, si);
        }
        return EvalFieldAt(self, j, s.Value, si);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private BoolValue EvalInSuper(InSuperNode isn, Env env)
    {
        var name = Eval(isn.Key, env);
        if (name is not StringValue s)
        {
            throw Error($"in super requires a string, got {name.TypeName}.", isn);
        }
        return BoolValue.Of(env.Self!.FindLayer(s.Value, env.SuperLevel - 1) >= 0);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private JsonnetException EvalError(ErrorNode en, Env env)
    {
        var msg = Eval(en.Message, env);
        return Error(msg is StringValue s ? s.Value : ToStringValue(msg, en), en);
    }

    /// <summary>Evaluates the control-flow forms in a loop, so that tail calls marked tailstrict use no stack.</summary>
    private Value EvalTail(Node node, Env env, bool inFunction = false)
    {
        while (true)
        {
            switch (node.Kind)
            {
                case NodeKind.Local:
                {
                    var l = (LocalNode)node;
                    env = BindLocals(l.Binds, env);
                    node = l.Body;
                    Step();
                    continue;
                }
                case NodeKind.If:
                {
                    var i = (IfNode)node;
                    var cond = Eval(i.Condition, env);
                    if (cond is not BoolValue b)
                    {
                        throw Error($"Condition must be boolean, got {cond.TypeName}.", i.Condition);
                    }
                    if (b.Value)
                    {
                        node = i.Then;
                    }
                    else if (i.Else is null)
                    {
                        return NullValue.Instance;
                    }
                    else
                    {
                        node = i.Else;
                    }
                    Step();
                    continue;
                }
                case NodeKind.Assert:
                {
                    var a = (AssertExprNode)node;
                    var cond = Eval(a.Condition, env);
                    if (cond is not BoolValue b)
                    {
                        throw Error($"Assertion condition must be boolean, got {cond.TypeName}.", a.Condition);
                    }
                    if (!b.Value)
                    {
                        if (a.Message is null)
                        {
                            throw Error("Assertion failed.", node);
                        }
                        var msg = Eval(a.Message, env);
                        throw Error(msg is StringValue s ? s.Value : ToStringValue(msg, node), node);
                    }
                    node = a.Rest;
                    Step();
                    continue;
                }
                case NodeKind.Apply when inFunction && ((ApplyNode)node).TailStrict:
                {
                    var ap = (ApplyNode)node;
                    var target = Eval(ap.Target, env);
                    if (target is not ClosureValue closure)
                    {
                        return EvalApply(ap, env, target);
                    }
                    var (positional, named) = EvalArgs(ap, env, strict: true);
                    env = BindArguments(closure, positional, named, ap);
                    // Reuse the current frame: this is what makes tailstrict recursion run in constant stack.
                    _sites[_depth - 1] = ap;
                    _kinds[_depth - 1] = "function";
                    _labels[_depth - 1] = closure.Name;
                    node = closure.Node.Body;
                    Step();
                    continue;
                }
                default:
                    return Eval(node, env);
            }
        }
    }

    private void Comprehend(Node owner, CompSpec[] specs, int index, Env env, Action<Env> emit)
    {
        if (index == specs.Length)
        {
            emit(env);
            return;
        }
        switch (specs[index])
        {
            case ForSpec f:
            {
                var src = Eval(f.Source, env);
                if (src is not ArrayValue arr)
                {
                    throw Error("In comprehension, can only iterate over array.", owner);
                }
                foreach (var item in arr.Items)
                {
                    Comprehend(owner, specs, index + 1, new Env(f.Variable, item, env), emit);
                }
                break;
            }
            case IfSpec i:
            {
                var c = Eval(i.Condition, env);
                if (c is not BoolValue b)
                {
                    throw Error($"Condition must be boolean, got {c.TypeName}.", i.Condition);
                }
                if (b.Value)
                {
                    Comprehend(owner, specs, index + 1, env, emit);
                }
                break;
            }
        }
    }

    // ---------------------------------------------------------------- objects

    private ObjectValue EvalObject(ObjectNode o, Env env)
    {
        if (o.Shape is { } shape)
        {
            return new ObjectValue([new ObjectLayer(shape.Fields, env, o.Locals, o.Asserts, o.BindsDollar) { Shape = shape, Name = o.Name }]);
        }
        var fields = new Dictionary<string, ObjectField>(o.Fields.Length, StringComparer.Ordinal);
        foreach (var f in o.Fields)
        {
            string name;
            if (f.FixedName is not null)
            {
                name = f.FixedName;
            }
            else
            {
                var key = Eval(f.NameExpr!, env);
                if (key is NullValue)
                {
                    continue;
                }
                if (key is not StringValue ks)
                {
                    throw Error($"Field name must be string, got {key.TypeName}.", f.NameExpr);
                }
                name = ks.Value;
            }
            if (!fields.TryAdd(name, new ObjectField(name, f.Visibility, f.Plus, f.Body, null, null)))
            {
                throw Error($"Duplicate field name: \"{name}\"", f.NameExpr ?? f.Body);
            }
        }
        if (Array.TrueForAll(o.Fields, f => f.FixedName is not null))
        {
            // Fixed names: the table never depends on the environment, so build it once per literal.
            var built = new LayerShape(fields);
            o.Shape = built;
            return new ObjectValue([new ObjectLayer(fields, env, o.Locals, o.Asserts, o.BindsDollar) { Shape = built, Name = o.Name }]);
        }
        return new ObjectValue([new ObjectLayer(fields, env, o.Locals, o.Asserts, o.BindsDollar) { Name = o.Name }]);
    }

    private ObjectValue EvalObjectComprehension(ObjectComprehensionNode oc, Env env)
    {
        var fields = new Dictionary<string, ObjectField>(StringComparer.Ordinal);
        Comprehend(oc, oc.Specs, 0, env, e =>
        {
            var key = Eval(oc.Key, e);
            if (key is NullValue)
            {
                return;
            }
            if (key is not StringValue ks)
            {
                throw Error($"Field name must be string, got {key.TypeName}.", oc.Key);
            }
            if (!fields.TryAdd(ks.Value, new ObjectField(ks.Value, oc.Visibility, oc.Plus, oc.Value, e, null)))
            {
                throw Error($"Duplicate field name: \"{ks.Value}\"", oc.Key);
            }
        });
        return new ObjectValue([new ObjectLayer(fields, env, oc.Locals, [], oc.BindsDollar)]);
    }

    private Env FieldEnv(ObjectValue self, int level, Env? baseEnv)
    {
        var layer = self.Layers[level];
        // Fields of one literal share the environment (and so the object locals, which are pure) for a given self;
        // comprehension fields carry their own environment and are not shared.
        var shared = ReferenceEquals(baseEnv, layer.Env);
        if (shared && self.FieldEnvs?[level] is { } cached)
        {
            return cached;
        }
        var env = new Env(self, level, baseEnv);
        if (layer.BindsDollar)
        {
            env = new Env("$", self, env);
        }
        if (layer.Locals.Length > 0)
        {
            env = BindLocals(layer.Locals, env);
        }
        if (shared)
        {
            (self.FieldEnvs ??= new Env?[self.Layers.Length])[level] = env;
        }
        return env;
    }

    public void EnsureAsserts(ObjectValue obj, Node? at)
    {
        if (!obj.HasAsserts || obj.AssertsChecked)
        {
            return;
        }
        obj.AssertsChecked = true;
        try
        {
            for (var i = 0; i < obj.Layers.Length; i++)
            {
                var layer = obj.Layers[i];
                if (layer.Asserts.Length == 0)
                {
                    continue;
                }
                var env = FieldEnv(obj, i, layer.Env);
                foreach (var a in layer.Asserts)
                {
                    Push(at, "thunk", "object_assert");
                    var c = Eval(a.Condition, env);
                    if (c is not BoolValue b)
                    {
                        throw Error($"Assertion condition must be boolean, got {c.TypeName}.", a.Condition);
                    }
                    if (!b.Value)
                    {
                        if (a.Message is null)
                        {
                            throw Error("Object assertion failed.", a.Condition);
                        }
                        var msg = Eval(a.Message, env);
                        throw Error(msg is StringValue s ? s.Value : ToStringValue(msg, a.Message), a.Message);
                    }
                    _depth--;
                }
            }
        }
        catch
        {
            obj.AssertsChecked = false;
            throw;
        }
    }

    public Value GetField(ObjectValue obj, string name, Node? at)
    {
        if (obj.TryGetCached(name, out var cached))
        {
            return cached;
        }
        var level = obj.FindLayer(name, obj.Layers.Length - 1);
        if (level < 0)
        {
            throw Error("field does not exist: " + name, at);
        }
        var field = obj.Layers[level].Fields[name];
        if (field.Constant is not null && !field.Plus)
        {
            // Built-in objects (std) are shared between evaluations: never write to them.
            return field.Constant.Force();
        }
        var v = EvalFieldAt(obj, level, name, at);
        obj.SetCached(name, v);
        return v;
    }

    private Value EvalFieldAt(ObjectValue self, int level, string name, Node? at)
    {
        var layer = self.Layers[level];
        var field = layer.Fields[name];
        Value v;
        if (field.Constant is not null)
        {
            v = field.Constant.Force();
        }
        else
        {
            var env = FieldEnv(self, level, field.Env ?? layer.Env);
            Push(at, "object", layer.Name ?? "anonymous");
            v = Eval(field.Body!, env);
            _depth--;
        }
        if (field.Plus)
        {
            var below = self.FindLayer(name, level - 1);
            if (below >= 0)
            {
                v = Add(EvalFieldAt(self, below, name, at), v, at);
            }
        }
        return v;
    }

    public Value Index(Value target, Value index, Node? at)
    {
        switch (target)
        {
            case ObjectValue obj:
                if (index is not StringValue key)
                {
                    throw Error($"attempted index an object with {index.TypeName}.", at);
                }
                EnsureAsserts(obj, at);
                return GetField(obj, key.Value, at);
            case ArrayValue arr:
            {
                if (index is not NumberValue n)
                {
                    throw Error(index is StringValue s ? $"attempted index an array with string \"{StringOps.EscapeForError(s.Value)}\"." : $"attempted index an array with {index.TypeName}.", at);
                }
                var d = n.Value;
                if (d != Math.Floor(d))
                {
                    throw Error($"array index was not integer: {Format.ShortG(d)}", at);
                }
                if (d < 0 || d >= arr.Length)
                {
                    throw Error($"array bounds error: {Format.ShortG(d)} not within [0, {arr.Length})", at);
                }
                var item = arr.Items[(int)d];
                if (item is Value known)
                {
                    return known;
                }
                _forceSite = at;
                return item.Force();
            }
            case StringValue str:
            {
                if (index is not NumberValue n)
                {
                    throw Error($"attempted index a string with {index.TypeName}.", at);
                }
                var d = n.Value;
                if (d != Math.Floor(d))
                {
                    throw Error($"string index was not integer: {Format.ShortG(d)}", at);
                }
                var len = StringOps.CodepointLength(str.Value);
                if (d < 0 || d >= len)
                {
                    throw Error($"string bounds error: {Format.ShortG(d)} not within [0, {len})", at);
                }
                return new StringValue(StringOps.CodepointAt(str.Value, (int)d));
            }
            default:
                throw Error($"attempted index a {target.TypeName} with {index.TypeName}.", at);
        }
    }

    // ---------------------------------------------------------------- functions

    private (Thunk[] Positional, (string Name, Thunk Value)[]? Named) EvalArgs(ApplyNode ap, Env env, bool strict)
    {
        var positional = ap.Positional.Length == 0 ? [] : new Thunk[ap.Positional.Length];
        for (var i = 0; i < positional.Length; i++)
        {
            positional[i] = strict ? Eval(ap.Positional[i], env) : MakeThunk(ap.Positional[i], env);
        }
        (string, Thunk)[]? named = null;
        if (ap.Named.Length > 0)
        {
            named = new (string, Thunk)[ap.Named.Length];
            for (var i = 0; i < named.Length; i++)
            {
                var n = ap.Named[i];
                named[i] = (n.Name, strict ? Eval(n.Value, env) : MakeThunk(n.Value, env));
            }
        }
        return (positional, named);
    }

    private Value EvalApply(ApplyNode ap, Env env, Value? target = null)
    {
        target ??= Eval(ap.Target, env);
        if (target is not FunctionValue fn)
        {
            throw Error($"Only functions can be called, got {target.TypeName}", ap);
        }
        var (positional, named) = EvalArgs(ap, env, ap.TailStrict);
        return Call(fn, positional, named, ap);
    }

    public Value Call(FunctionValue fn, Thunk[] positional, (string Name, Thunk Value)[]? named, Node? site, string? frameName = null)
    {
        if (fn is ClosureValue closure)
        {
            var env = BindArguments(closure, positional, named, site);
            Push(site, "function", frameName ?? closure.Name);
            var result = EvalTail(closure.Node.Body, env, inFunction: true);
            _depth--;
            return result;
        }
        var builtin = (BuiltinFunction)fn;
        var args = BindBuiltin(builtin, positional, named, site);
        Push(site, "builtin function", builtin.Name);
        var value = builtin.Body(this, args);
        _depth--;
        return value;
    }

    /// <summary>Calls a function with already-known positional arguments (used by the standard library).</summary>
    public Value Call(FunctionValue fn, params Thunk[] positional) => Call(fn, positional, null, null);

    private Thunk?[] BindBuiltin(BuiltinFunction fn, Thunk[] positional, (string Name, Thunk Value)[]? named, Node? site)
    {
        var ps = fn.Parameters;
        if (positional.Length > ps.Length)
        {
            throw Error($"too many args, function has {ps.Length} parameter(s)", site);
        }
        var slots = new Thunk?[ps.Length];
        Array.Copy(positional, slots, positional.Length);
        if (named is not null)
        {
            foreach (var (name, value) in named)
            {
                var idx = Array.IndexOf(ps, name);
                if (idx < 0)
                {
                    throw Error($"function has no parameter {name}", site);
                }
                if (slots[idx] is not null)
                {
                    throw Error($"binding parameter a second time: {name}", site);
                }
                slots[idx] = value;
            }
        }
        for (var i = 0; i < fn.Required; i++)
        {
            if (slots[i] is null)
            {
                throw Error($"function parameter {ps[i]} not bound in call.", site);
            }
        }
        return slots;
    }

    private Env BindArguments(ClosureValue closure, Thunk[] positional, (string Name, Thunk Value)[]? named, Node? site)
    {
        var ps = closure.Node.Parameters;
        if (positional.Length > ps.Length)
        {
            throw Error($"too many args, function has {ps.Length} parameter(s)", site);
        }
        Thunk?[] slots;
        if (named is null && positional.Length == ps.Length)
        {
            slots = positional;
        }
        else
        {
            slots = new Thunk?[ps.Length];
            Array.Copy(positional, slots, positional.Length);
            if (named is not null)
            {
                foreach (var (name, value) in named)
                {
                    var idx = -1;
                    for (var i = 0; i < ps.Length; i++)
                    {
                        if (ps[i].Name == name)
                        {
                            idx = i;
                            break;
                        }
                    }
                    if (idx < 0)
                    {
                        throw Error($"function has no parameter {name}", site);
                    }
                    if (slots[idx] is not null)
                    {
                        throw Error($"binding parameter a second time: {name}", site);
                    }
                    slots[idx] = value;
                }
            }
        }
        var env = closure.Env;
        List<LazyThunk>? defaults = null;
        for (var i = 0; i < ps.Length; i++)
        {
            var t = slots[i];
            if (t is null)
            {
                if (ps[i].Default is null)
                {
                    throw Error($"function parameter {ps[i].Name} not bound in call.", site);
                }
                var d = new LazyThunk(this, ps[i].Default!, null, ps[i].Name);
                (defaults ??= []).Add(d);
                t = d;
            }
            env = new Env(ps[i].Name, t, env);
        }
        if (defaults is not null)
        {
            foreach (var d in defaults)
            {
                d.Env = env;
            }
        }
        return env;
    }

    // ---------------------------------------------------------------- imports

    private Value EvalImport(ImportNode node)
    {
        var importer = node.Location.File;
        var path = node.Path;
        if (path.Length == 0)
        {
            throw Error("couldn't open import \"\": the empty string is not a valid filename", node);
        }
        var resolver = _options.ImportResolver;
        var found = resolver?.Resolve(importer, path);
        if (found is null)
        {
            throw Error($"couldn't open import \"{StringOps.EscapeForError(path)}\": no match locally or in the Jsonnet library paths.", node);
        }
        var key = node.Kind + "\0" + found.Path;
        if (_imports.TryGetValue(key, out var cached))
        {
            return cached;
        }
        Value result;
        switch (node.Kind)
        {
            case NodeKind.ImportStr:
                result = new StringValue(Utf8(found.Content));
                break;
            case NodeKind.ImportBin:
            {
                var items = new Thunk[found.Content.Length];
                for (var i = 0; i < items.Length; i++)
                {
                    items[i] = NumberValue.Of(found.Content[i]);
                }
                result = new ArrayValue(items);
                break;
            }
            default:
            {
                var program = _engine.ParseCached(found.Path, Utf8(found.Content));
                Push(node, "import", found.Path);
                result = Eval(program, RootEnv(found.Path));
                _depth--;
                break;
            }
        }
        _imports[key] = result;
        return result;
    }

    private static string Utf8(byte[] bytes) => new System.Text.UTF8Encoding(false, false).GetString(bytes);
}
