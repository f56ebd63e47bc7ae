using Gatehouse.Jsonnet.Syntax;

namespace Gatehouse.Jsonnet.Runtime;

internal sealed partial class Evaluator
{
    private const double MaxSafeInteger = 9007199254740991;

    private Value EvalBinary(BinaryNode b, Env env)
    {
        EnsureStack();
        switch (b.Op)
        {
            case BinaryOp.And:
            {
                var l = Eval(b.Left, env);
                if (l is not BoolValue lb)
                {
                    throw Error($"Binary operator && requires boolean, got {l.TypeName}.", b);
                }
                if (!lb.Value)
                {
                    return BoolValue.False;
                }
                var r = Eval(b.Right, env);
                return r is BoolValue ? r : throw Error($"Binary operator && requires boolean, got {r.TypeName}.", b);
            }
            case BinaryOp.Or:
            {
                var l = Eval(b.Left, env);
                if (l is not BoolValue lb)
                {
                    throw Error($"Binary operator || requires boolean, got {l.TypeName}.", b);
                }
                if (lb.Value)
                {
                    return BoolValue.True;
                }
                var r = Eval(b.Right, env);
                return r is BoolValue ? r : throw Error($"Binary operator || requires boolean, got {r.TypeName}.", b);
            }
        }
        var left = Eval(b.Left, env);
        var right = Eval(b.Right, env);
        return Binary(b.Op, left, right, b);
    }

    public Value Binary(BinaryOp op, Value left, Value right, Node? at)
    {
        switch (op)
        {
            case BinaryOp.Add:
                return Add(left, right, at);
            case BinaryOp.Equal:
                return BoolValue.Of(Equal(left, right, at));
            case BinaryOp.NotEqual:
                return BoolValue.Of(!Equal(left, right, at));
            case BinaryOp.Less:
                return BoolValue.Of(Compare(left, right, at, "<") < 0);
            case BinaryOp.LessEq:
                return BoolValue.Of(Compare(left, right, at, "<=") <= 0);
            case BinaryOp.Greater:
                return BoolValue.Of(Compare(left, right, at, ">") > 0);
            case BinaryOp.GreaterEq:
                return BoolValue.Of(Compare(left, right, at, ">=") >= 0);
            case BinaryOp.In:
                if (left is not StringValue key || right is not ObjectValue obj)
                {
                    throw Error($"Binary operator in requires string and object, got {left.TypeName} and {right.TypeName}.", at);
                }
                return BoolValue.Of(obj.HasField(key.Value, includeHidden: true));
            case BinaryOp.Mod:
                if (left is StringValue fmt)
                {
                    return new StringValue(StringFormatter.Format(this, fmt.Value, right, at));
                }
                if (left is NumberValue ln && right is NumberValue rn)
                {
                    if (rn.Value == 0)
                    {
                        throw Error("division by zero.", at);
                    }
                    return Number(CMod(ln.Value, rn.Value), at);
                }
                throw Error($"Operator % cannot be used on types {left.TypeName} and {right.TypeName}.", at);
        }
        if (left is not NumberValue l || right is not NumberValue r)
        {
            throw Error($"Binary operator {OpText(op)} requires numbers, got {left.TypeName} and {right.TypeName}.", at);
        }
        switch (op)
        {
            case BinaryOp.Sub: return Number(l.Value - r.Value, at);
            case BinaryOp.Mul: return Number(l.Value * r.Value, at);
            case BinaryOp.Div:
                if (r.Value == 0)
                {
                    throw Error("division by zero.", at);
                }
                return Number(l.Value / r.Value, at);
        }
        var li = ToSafeInteger(l.Value, at);
        var ri = ToSafeInteger(r.Value, at);
        switch (op)
        {
            case BinaryOp.BitAnd: return NumberValue.Of(li & ri);
            case BinaryOp.BitOr: return NumberValue.Of(li | ri);
            case BinaryOp.BitXor: return NumberValue.Of(li ^ ri);
            case BinaryOp.ShiftLeft:
            {
                if (ri < 0)
                {
                    throw Error("shift by negative exponent.", at);
                }
                var s = (int)(ri % 64);
                var result = li << s;
                if (result >> s != li)
                {
                    throw Error("numeric value outside safe integer range for bitwise operation.", at);
                }
                return NumberValue.Of(result);
            }
            case BinaryOp.ShiftRight:
                if (ri < 0)
                {
                    throw Error("shift by negative exponent.", at);
                }
                return NumberValue.Of(li >> (int)(ri % 64));
            default:
                throw Error("unknown operator " + op, at);
        }
    }

    private static string OpText(BinaryOp op) => op switch
    {
        BinaryOp.Sub => "-",
        BinaryOp.Mul => "*",
        BinaryOp.Div => "/",
        BinaryOp.BitAnd => "&",
        BinaryOp.BitOr => "|",
        BinaryOp.BitXor => "^",
        BinaryOp.ShiftLeft => "<<",
        BinaryOp.ShiftRight => ">>",
        _ => op.ToString(),
    };

    /// <summary>C's fmod: the result has the sign of the dividend.</summary>
    private static double CMod(double a, double b) => a % b;

    public long ToSafeInteger(double d, Node? at)
    {
        if (d < -MaxSafeInteger || d > MaxSafeInteger || double.IsNaN(d))
        {
            throw Error("numeric value outside safe integer range for bitwise operation.", at);
        }
        return (long)d;
    }

    public NumberValue Number(double d, Node? at)
    {
        if (double.IsNaN(d))
        {
            throw Error("not a number", at);
        }
        if (double.IsInfinity(d))
        {
            throw Error("overflow", at);
        }
        return NumberValue.Of(d);
    }

    public Value Add(Value left, Value right, Node? at)
    {
        switch (left)
        {
            case NumberValue l when right is NumberValue r:
                return Number(l.Value + r.Value, at);
            case StringValue ls when right is StringValue rs:
                Charge(ls.Value.Length + (long)rs.Value.Length, at);
                return new StringValue(string.Concat(ls.Value, rs.Value));
            case StringValue ls:
            {
                var r = ToStringValue(right, at);
                Charge(ls.Value.Length + (long)r.Length, at);
                return new StringValue(string.Concat(ls.Value, r));
            }
            case ObjectValue lo when right is ObjectValue ro:
                return new ObjectValue([.. lo.Layers, .. ro.Layers]);
            case ArrayValue la when right is ArrayValue ra:
            {
                if (la.Length == 0)
                {
                    return ra;
                }
                if (ra.Length == 0)
                {
                    return la;
                }
                Charge(la.Length + (long)ra.Length, at);
                var items = new Thunk[la.Length + ra.Length];
                la.Items.CopyTo(items, 0);
                ra.Items.CopyTo(items, la.Length);
                return new ArrayValue(items);
            }
        }
        if (right is StringValue rs2)
        {
            var l = ToStringValue(left, at);
            Charge(l.Length + (long)rs2.Value.Length, at);
            return new StringValue(string.Concat(l, rs2.Value));
        }
        throw Error($"Binary operator + requires matching types, got {left.TypeName} and {right.TypeName}.", at);
    }

    private Value EvalUnary(UnaryNode u, Env env)
    {
        EnsureStack();
        var v = Eval(u.Operand, env);
        switch (u.Op)
        {
            case UnaryOp.Not:
                return v is BoolValue b ? BoolValue.Of(!b.Value) : throw Error($"Unary operator ! requires boolean, got {v.TypeName}.", u);
            case UnaryOp.Minus:
                return v is NumberValue n ? NumberValue.Of(-n.Value) : throw Error($"Unary operator - requires number, got {v.TypeName}.", u);
            case UnaryOp.Plus:
                return v is NumberValue ? v : throw Error($"Unary operator + requires number, got {v.TypeName}.", u);
            default:
                return v is NumberValue bn ? NumberValue.Of(~ToSafeInteger(bn.Value, u)) : throw Error($"Unary operator ~ requires number, got {v.TypeName}.", u);
        }
    }

    public bool Equal(Value a, Value b, Node? at)
    {
        EnsureStack();
        if (ReferenceEquals(a, b) && a is not FunctionValue)
        {
            return true;
        }
        switch (a)
        {
            case NullValue:
                return b is NullValue;
            case BoolValue ab:
                return b is BoolValue bb && ab.Value == bb.Value;
            case NumberValue an:
                return b is NumberValue bn && an.Value == bn.Value;
            case StringValue s:
                return b is StringValue bs && string.Equals(s.Value, bs.Value, StringComparison.Ordinal);
            case ArrayValue aa:
            {
                if (b is not ArrayValue ba)
                {
                    return false;
                }
                if (aa.Length != ba.Length)
                {
                    return false;
                }
                for (var i = 0; i < aa.Length; i++)
                {
                    if (!Equal(aa.Items[i].Force(), ba.Items[i].Force(), at))
                    {
                        return false;
                    }
                }
                return true;
            }
            case ObjectValue ao:
            {
                if (b is not ObjectValue bo)
                {
                    return false;
                }
                var fa = ao.FieldNames(false);
                var fb = bo.FieldNames(false);
                if (fa.Length != fb.Length)
                {
                    return false;
                }
                for (var i = 0; i < fa.Length; i++)
                {
                    if (!string.Equals(fa[i], fb[i], StringComparison.Ordinal))
                    {
                        return false;
                    }
                }
                EnsureAsserts(ao, at);
                EnsureAsserts(bo, at);
                foreach (var f in fa)
                {
                    if (!Equal(GetField(ao, f, at), GetField(bo, f, at), at))
                    {
                        return false;
                    }
                }
                return true;
            }
            case FunctionValue:
                if (b is FunctionValue)
                {
                    throw Error("cannot test equality of functions", at);
                }
                return false;
            default:
                return false;
        }
    }

    public int Compare(Value a, Value b, Node? at, string op = "<")
    {
        EnsureStack();
        switch (a)
        {
            case NumberValue an when b is NumberValue bn:
                return an.Value.CompareTo(bn.Value);
            case StringValue sa when b is StringValue sb:
                return StringOps.CompareCodepoints(sa.Value, sb.Value);
            case ArrayValue aa when b is ArrayValue ba:
            {
                var n = Math.Min(aa.Length, ba.Length);
                for (var i = 0; i < n; i++)
                {
                    var c = Compare(aa.Items[i].Force(), ba.Items[i].Force(), at, op);
                    if (c != 0)
                    {
                        return c;
                    }
                }
                return aa.Length.CompareTo(ba.Length);
            }
        }
        if (a.TypeName != b.TypeName)
        {
            throw Error($"Comparison requires matching types. Got {a.TypeName} and {b.TypeName}", at);
        }
        throw Error($"Values of type {a.TypeName} are not comparable.", at);
    }

    public string ToStringValue(Value v, Node? at) => v is StringValue s ? s.Value : Manifester.ToJson(this, v, at, JsonStyle.Inline);
}
