namespace Gatehouse.Jsonnet.Syntax;

/// <summary>Static checks done before evaluation: unknown variables, self/super/$ outside objects, duplicate parameters.</summary>
internal static class Analyzer
{
    private sealed record Scope(string Name, Scope? Parent)
    {
        public bool Contains(string name)
        {
            for (var s = this; s is not null; s = s.Parent)
            {
                if (s.Name == name)
                {
                    return true;
                }
            }
            return false;
        }
    }

    public static void Check(Node root)
    {
        var scope = new Scope("std", new Scope("$std", null));
        Visit(root, scope, inObject: false);
    }

    private static Scope With(Scope scope, string name) => new(name, scope);

    private static void Visit(Node node, Scope scope, bool inObject)
    {
        RuntimeGuard.EnsureStack();
        switch (node)
        {
            case LiteralNode lit:
                if (lit.Kind == NodeKind.Self && !inObject)
                {
                    throw JsonnetException.Static(lit.Location, "Can't use self outside of an object.");
                }
                if (lit.Kind == NodeKind.Dollar && !inObject)
                {
                    throw JsonnetException.Static(lit.Location, "No top-level object found.");
                }
                break;
            case NumberNode:
            case StringNode:
            case ImportNode:
                break;
            case VarNode v:
                if (!scope.Contains(v.Name))
                {
                    throw JsonnetException.Static(v.Location, $"Unknown variable: {v.Name}");
                }
                break;
            case ArrayNode a:
                foreach (var e in a.Elements)
                {
                    Visit(e, scope, inObject);
                }
                break;
            case ArrayComprehensionNode ac:
                Visit(ac.Body, VisitSpecs(ac.Specs, scope, inObject), inObject);
                break;
            case ObjectNode o:
            {
                if (!inObject)
                {
                    o.BindsDollar = true;
                }
                foreach (var f in o.Fields)
                {
                    if (f.NameExpr is not null)
                    {
                        Visit(f.NameExpr, scope, inObject);
                    }
                }
                var inner = scope;
                foreach (var b in o.Locals)
                {
                    inner = With(inner, b.Name);
                }
                foreach (var b in o.Locals)
                {
                    Visit(b.Body, inner, true);
                }
                foreach (var f in o.Fields)
                {
                    Visit(f.Body, inner, true);
                }
                foreach (var a in o.Asserts)
                {
                    Visit(a.Condition, inner, true);
                    if (a.Message is not null)
                    {
                        Visit(a.Message, inner, true);
                    }
                }
                break;
            }
            case ObjectComprehensionNode oc:
            {
                if (!inObject)
                {
                    oc.BindsDollar = true;
                }
                var specScope = VisitSpecs(oc.Specs, scope, inObject);
                Visit(oc.Key, specScope, inObject);
                var inner = specScope;
                foreach (var b in oc.Locals)
                {
                    inner = With(inner, b.Name);
                }
                foreach (var b in oc.Locals)
                {
                    Visit(b.Body, inner, true);
                }
                Visit(oc.Value, inner, true);
                break;
            }
            case IndexNode ix:
                Visit(ix.Target, scope, inObject);
                Visit(ix.IndexExpr, scope, inObject);
                break;
            case SuperIndexNode si:
                if (!inObject)
                {
                    throw JsonnetException.Static(SuperKeyword(si.Location), "Can't use super outside of an object.");
                }
                Visit(si.IndexExpr, scope, inObject);
                break;
            case InSuperNode isn:
                if (!inObject)
                {
                    throw JsonnetException.Static(isn.Location, "Can't use super outside of an object.");
                }
                Visit(isn.Key, scope, inObject);
                break;
            case ApplyNode ap:
                Visit(ap.Target, scope, inObject);
                foreach (var p in ap.Positional)
                {
                    Visit(p, scope, inObject);
                }
                foreach (var n in ap.Named)
                {
                    Visit(n.Value, scope, inObject);
                }
                break;
            case FunctionNode fn:
            {
                var inner = scope;
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var p in fn.Parameters)
                {
                    if (!seen.Add(p.Name))
                    {
                        throw JsonnetException.Static(fn.Location, $"Duplicate function parameter: {p.Name}");
                    }
                    inner = With(inner, p.Name);
                }
                foreach (var p in fn.Parameters)
                {
                    if (p.Default is not null)
                    {
                        Visit(p.Default, inner, inObject);
                    }
                }
                Visit(fn.Body, inner, inObject);
                break;
            }
            case LocalNode l:
            {
                var inner = scope;
                foreach (var b in l.Binds)
                {
                    inner = With(inner, b.Name);
                }
                foreach (var b in l.Binds)
                {
                    Visit(b.Body, inner, inObject);
                }
                Visit(l.Body, inner, inObject);
                break;
            }
            case IfNode i:
                Visit(i.Condition, scope, inObject);
                Visit(i.Then, scope, inObject);
                if (i.Else is not null)
                {
                    Visit(i.Else, scope, inObject);
                }
                break;
            case BinaryNode bn:
                Visit(bn.Left, scope, inObject);
                Visit(bn.Right, scope, inObject);
                break;
            case UnaryNode un:
                Visit(un.Operand, scope, inObject);
                break;
            case ErrorNode en:
                Visit(en.Message, scope, inObject);
                break;
            case AssertExprNode ae:
                Visit(ae.Condition, scope, inObject);
                if (ae.Message is not null)
                {
                    Visit(ae.Message, scope, inObject);
                }
                Visit(ae.Rest, scope, inObject);
                break;
            default:
                throw new InvalidOperationException("unknown node " + node.Kind);
        }
    }

    private static SourceLocation SuperKeyword(SourceLocation l) => new(l.File, l.Line, l.Column, l.Line, l.Column + 5);

    private static Scope VisitSpecs(CompSpec[] specs, Scope scope, bool inObject)
    {
        foreach (var spec in specs)
        {
            switch (spec)
            {
                case ForSpec f:
                    Visit(f.Source, scope, inObject);
                    scope = With(scope, f.Variable);
                    break;
                case IfSpec i:
                    Visit(i.Condition, scope, inObject);
                    break;
            }
        }
        return scope;
    }
}
