namespace Gatehouse.Jsonnet.Syntax;

/// <summary>Recursive-descent parser producing the AST; light desugaring happens here (methods, slices, ApplyBrace).</summary>
internal sealed class Parser
{
    private const int MaxDepth = 500;
    private readonly List<Token> _tokens;
    private int _pos;
    private int _depth;

    private Parser(List<Token> tokens)
    {
        _tokens = tokens;
    }

    public static Node Parse(string file, string text)
    {
        var parser = new Parser(Lexer.Tokenize(file, text));
        var node = parser.ParseExpr();
        var next = parser.Peek;
        if (next.Kind != TokenKind.EndOfFile)
        {
            throw JsonnetException.Static(next.Location, $"Did not expect: {Describe(next)}");
        }
        return node;
    }

    private Token Peek => _tokens[_pos];

    private Token PeekAt(int offset) => _tokens[Math.Min(_pos + offset, _tokens.Count - 1)];

    private Token Pop() => _tokens[_pos++];

    private static string Describe(Token t) => t.Kind switch
    {
        TokenKind.EndOfFile => "end of file",
        TokenKind.Identifier => "IDENTIFIER",
        >= TokenKind.Assert => t.Text,
        _ => $"\"{t.Text}\"",
    };

    private static SourceLocation Span(SourceLocation a, SourceLocation b) => new(a.File, a.Line, a.Column, b.EndLine, b.EndColumn);

    private Token Expect(TokenKind kind, string what)
    {
        var t = Peek;
        if (t.Kind != kind)
        {
            if (t.Kind == TokenKind.EndOfFile)
            {
                throw JsonnetException.Static(t.Location, "unexpected end of file.");
            }
            throw JsonnetException.Static(t.Location, $"expected token {what} but got {Describe(t)}");
        }
        return Pop();
    }

    private bool IsOp(Token t, string op) => t.Kind == TokenKind.Operator && t.Text == op;

    private Token ExpectOp(string op)
    {
        var t = Peek;
        if (!IsOp(t, op))
        {
            if (t.Kind == TokenKind.EndOfFile)
            {
                throw JsonnetException.Static(t.Location, "unexpected end of file.");
            }
            throw JsonnetException.Static(t.Location, $"expected token {op} but got {Describe(t)}");
        }
        return Pop();
    }

    private Node ParseExpr(int minPrecedence = 0)
    {
        if (++_depth > MaxDepth)
        {
            throw JsonnetException.Static(Peek.Location, "Exceeded maximum parse depth limit.");
        }
        try
        {
            return ParseBinary(minPrecedence);
        }
        finally
        {
            _depth--;
        }
    }

    private static int Precedence(Token t, out BinaryOp op)
    {
        op = default;
        if (t.Kind == TokenKind.In)
        {
            op = BinaryOp.In;
            return 7;
        }
        if (t.Kind != TokenKind.Operator)
        {
            return -1;
        }
        switch (t.Text)
        {
            case "*": op = BinaryOp.Mul; return 10;
            case "/": op = BinaryOp.Div; return 10;
            case "%": op = BinaryOp.Mod; return 10;
            case "+": op = BinaryOp.Add; return 9;
            case "-": op = BinaryOp.Sub; return 9;
            case "<<": op = BinaryOp.ShiftLeft; return 8;
            case ">>": op = BinaryOp.ShiftRight; return 8;
            case "<": op = BinaryOp.Less; return 7;
            case "<=": op = BinaryOp.LessEq; return 7;
            case ">": op = BinaryOp.Greater; return 7;
            case ">=": op = BinaryOp.GreaterEq; return 7;
            case "==": op = BinaryOp.Equal; return 6;
            case "!=": op = BinaryOp.NotEqual; return 6;
            case "&": op = BinaryOp.BitAnd; return 5;
            case "^": op = BinaryOp.BitXor; return 4;
            case "|": op = BinaryOp.BitOr; return 3;
            case "&&": op = BinaryOp.And; return 2;
            case "||": op = BinaryOp.Or; return 1;
            default: return -1;
        }
    }

    private Node ParseBinary(int minPrecedence)
    {
        var left = ParseUnary();
        while (true)
        {
            var t = Peek;
            var prec = Precedence(t, out var op);
            if (prec < 0 || prec < minPrecedence)
            {
                return left;
            }
            Pop();
            if (op == BinaryOp.In && Peek.Kind == TokenKind.Super)
            {
                var sup = Pop();
                left = new InSuperNode(Span(left.Location, sup.Location), left);
                continue;
            }
            var right = ParseExpr(prec + 1);
            left = new BinaryNode(Span(left.Location, right.Location), op, left, right);
        }
    }

    private Node ParseUnary()
    {
        var t = Peek;
        if (t.Kind == TokenKind.Operator)
        {
            UnaryOp? op = t.Text switch
            {
                "!" => UnaryOp.Not,
                "~" => UnaryOp.BitNot,
                "+" => UnaryOp.Plus,
                "-" => UnaryOp.Minus,
                _ => null,
            };
            if (op is { } u)
            {
                Pop();
                if (++_depth > MaxDepth)
                {
                    throw JsonnetException.Static(Peek.Location, "Exceeded maximum parse depth limit.");
                }
                var operand = ParseUnary();
                _depth--;
                return new UnaryNode(Span(t.Location, operand.Location), u, operand);
            }
        }
        switch (t.Kind)
        {
            case TokenKind.Local:
            case TokenKind.If:
            case TokenKind.Function:
            case TokenKind.Assert:
            case TokenKind.Error:
                return ParseKeywordExpr();
        }
        var node = ParsePrimary();
        return ParsePostfix(node);
    }

    private Node ParsePostfix(Node node)
    {
        while (true)
        {
            var t = Peek;
            switch (t.Kind)
            {
                case TokenKind.Dot:
                {
                    Pop();
                    var id = Expect(TokenKind.Identifier, "IDENTIFIER");
                    node = new IndexNode(Span(node.Location, id.Location), node, new StringNode(id.Location, id.Text));
                    break;
                }
                case TokenKind.LeftBracket:
                    Pop();
                    node = ParseIndexOrSlice(node);
                    break;
                case TokenKind.LeftParen:
                {
                    Pop();
                    var (positional, named) = ParseArgs();
                    var close = Expect(TokenKind.RightParen, "\")\"");
                    var tail = false;
                    if (Peek.Kind == TokenKind.TailStrict)
                    {
                        Pop();
                        tail = true;
                    }
                    node = new ApplyNode(Span(node.Location, close.Location), node, positional, named, tail);
                    break;
                }
                case TokenKind.LeftBrace:
                {
                    var obj = ParseObject();
                    node = new BinaryNode(Span(node.Location, obj.Location), BinaryOp.Add, node, obj);
                    break;
                }
                default:
                    return node;
            }
        }
    }

    private Node ParseIndexOrSlice(Node target)
    {
        Node? begin = null, end = null, step = null;
        var isSlice = false;
        if (!IsColonLike(Peek))
        {
            begin = ParseExpr();
        }
        if (IsOp(Peek, "::"))
        {
            Pop();
            isSlice = true;
            if (Peek.Kind != TokenKind.RightBracket)
            {
                step = ParseExpr();
            }
        }
        else if (IsOp(Peek, ":"))
        {
            Pop();
            isSlice = true;
            if (Peek.Kind != TokenKind.RightBracket && !IsColonLike(Peek))
            {
                end = ParseExpr();
            }
            if (IsOp(Peek, ":"))
            {
                Pop();
                if (Peek.Kind != TokenKind.RightBracket)
                {
                    step = ParseExpr();
                }
            }
        }
        var close = Expect(TokenKind.RightBracket, "\"]\"");
        var loc = Span(target.Location, close.Location);
        if (!isSlice)
        {
            if (begin is null)
            {
                throw JsonnetException.Static(close.Location, "unexpected: \"]\" while parsing index");
            }
            return new IndexNode(loc, target, begin);
        }
        var nul = new LiteralNode(NodeKind.Null, loc);
        var slice = new IndexNode(loc, new VarNode(loc, "$std"), new StringNode(loc, "slice"));
        return new ApplyNode(loc, slice, [target, begin ?? nul, end ?? nul, step ?? nul], [], false);
    }

    private bool IsColonLike(Token t) => IsOp(t, ":") || IsOp(t, "::");

    private (Node[] Positional, NamedArg[] Named) ParseArgs()
    {
        var positional = new List<Node>();
        var named = new List<NamedArg>();
        while (Peek.Kind != TokenKind.RightParen)
        {
            if (Peek.Kind == TokenKind.Identifier && IsOp(PeekAt(1), "="))
            {
                var id = Pop();
                Pop();
                named.Add(new NamedArg(id.Text, ParseExpr()));
            }
            else
            {
                var start = Peek;
                var arg = ParseExpr();
                if (named.Count > 0)
                {
                    throw JsonnetException.Static(start.Location, "Positional argument after a named argument is not allowed");
                }
                positional.Add(arg);
            }
            if (Peek.Kind == TokenKind.Comma)
            {
                Pop();
                continue;
            }
            if (Peek.Kind != TokenKind.RightParen)
            {
                throw JsonnetException.Static(Peek.Location, Peek.Kind == TokenKind.EndOfFile ? "unexpected end of file." : "expected a comma before next function argument.");
            }
        }
        return (positional.ToArray(), named.ToArray());
    }

    private Parameter[] ParseParams()
    {
        Expect(TokenKind.LeftParen, "\"(\"");
        var result = new List<Parameter>();
        while (Peek.Kind != TokenKind.RightParen)
        {
            var id = Peek;
            if (id.Kind != TokenKind.Identifier)
            {
                throw JsonnetException.Static(id.Location, $"Expected simple identifier but got a complex expression.");
            }
            Pop();
            Node? def = null;
            if (IsOp(Peek, "="))
            {
                Pop();
                def = ParseExpr();
            }
            result.Add(new Parameter(id.Location, id.Text, def));
            if (Peek.Kind == TokenKind.Comma)
            {
                Pop();
                continue;
            }
            if (Peek.Kind != TokenKind.RightParen)
            {
                throw JsonnetException.Static(Peek.Location, "expected a comma before next function parameter.");
            }
        }
        Pop();
        return result.ToArray();
    }

    private Bind ParseBind()
    {
        var id = Expect(TokenKind.Identifier, "IDENTIFIER");
        if (Peek.Kind == TokenKind.LeftParen)
        {
            var ps = ParseParams();
            ExpectOp("=");
            var body = ParseExpr();
            var fn = new FunctionNode(Span(id.Location, body.Location), ps, body) { Name = id.Text };
            return new Bind(id.Location, id.Text, fn);
        }
        ExpectOp("=");
        var value = ParseExpr();
        if (value is FunctionNode f)
        {
            f.Name ??= id.Text;
        }
        else if (value is ObjectNode o)
        {
            o.Name ??= id.Text;
        }
        return new Bind(id.Location, id.Text, value);
    }

    private Node ParseKeywordExpr()
    {
        var t = Pop();
        switch (t.Kind)
        {
            case TokenKind.Local:
            {
                var binds = new List<Bind>();
                while (true)
                {
                    var b = ParseBind();
                    if (binds.Exists(x => x.Name == b.Name))
                    {
                        throw JsonnetException.Static(b.Location, $"Duplicate local var: {b.Name}");
                    }
                    binds.Add(b);
                    if (Peek.Kind == TokenKind.Comma)
                    {
                        Pop();
                        continue;
                    }
                    Expect(TokenKind.Semicolon, "\";\"");
                    break;
                }
                var body = ParseExpr();
                return new LocalNode(Span(t.Location, body.Location), binds.ToArray(), body);
            }
            case TokenKind.If:
            {
                var cond = ParseExpr();
                Expect(TokenKind.Then, "then");
                var then = ParseExpr();
                Node? otherwise = null;
                if (Peek.Kind == TokenKind.Else)
                {
                    Pop();
                    otherwise = ParseExpr();
                }
                return new IfNode(Span(t.Location, (otherwise ?? then).Location), cond, then, otherwise);
            }
            case TokenKind.Function:
            {
                var ps = ParseParams();
                var body = ParseExpr();
                return new FunctionNode(Span(t.Location, body.Location), ps, body);
            }
            case TokenKind.Assert:
            {
                var cond = ParseExpr();
                Node? msg = null;
                if (IsOp(Peek, ":"))
                {
                    Pop();
                    msg = ParseExpr();
                }
                Expect(TokenKind.Semicolon, "\";\"");
                var rest = ParseExpr();
                return new AssertExprNode(Span(t.Location, rest.Location), cond, msg, rest);
            }
            default:
            {
                var msg = ParseExpr();
                return new ErrorNode(Span(t.Location, msg.Location), msg);
            }
        }
    }

    private Node ParsePrimary()
    {
        var t = Peek;
        switch (t.Kind)
        {
            case TokenKind.Null: Pop(); return new LiteralNode(NodeKind.Null, t.Location);
            case TokenKind.True: Pop(); return new LiteralNode(NodeKind.True, t.Location);
            case TokenKind.False: Pop(); return new LiteralNode(NodeKind.False, t.Location);
            case TokenKind.Self: Pop(); return new LiteralNode(NodeKind.Self, t.Location);
            case TokenKind.Dollar: Pop(); return new LiteralNode(NodeKind.Dollar, t.Location);
            case TokenKind.Number: Pop(); return new NumberNode(t.Location, t.Number);
            case TokenKind.String: Pop(); return new StringNode(t.Location, t.Text);
            case TokenKind.Identifier: Pop(); return new VarNode(t.Location, t.Text);
            case TokenKind.LeftParen:
            {
                Pop();
                var inner = ParseExpr();
                Expect(TokenKind.RightParen, "\")\"");
                return inner;
            }
            case TokenKind.LeftBrace:
                return ParseObject();
            case TokenKind.LeftBracket:
                return ParseArray();
            case TokenKind.Super:
            {
                Pop();
                if (Peek.Kind == TokenKind.Dot)
                {
                    Pop();
                    var id = Expect(TokenKind.Identifier, "IDENTIFIER");
                    return new SuperIndexNode(Span(t.Location, id.Location), new StringNode(id.Location, id.Text));
                }
                if (Peek.Kind == TokenKind.LeftBracket)
                {
                    Pop();
                    var index = ParseExpr();
                    var close = Expect(TokenKind.RightBracket, "\"]\"");
                    return new SuperIndexNode(Span(t.Location, close.Location), index);
                }
                throw JsonnetException.Static(t.Location, "Can't use super outside of an object.");
            }
            case TokenKind.Import:
            case TokenKind.ImportStr:
            case TokenKind.ImportBin:
            {
                Pop();
                var pathTok = Peek;
                var expr = ParseExpr();
                if (expr is not StringNode path)
                {
                    throw JsonnetException.Static(expr.Location, "computed imports are not allowed.");
                }
                if (pathTok.StringKind == StringKind.TextBlock)
                {
                    throw JsonnetException.Static(pathTok.Location, "Cannot use text blocks in import statements.");
                }
                var kind = t.Kind switch
                {
                    TokenKind.Import => NodeKind.Import,
                    TokenKind.ImportStr => NodeKind.ImportStr,
                    _ => NodeKind.ImportBin,
                };
                return new ImportNode(kind, Span(t.Location, path.Location), path.Value);
            }
            case TokenKind.EndOfFile:
                throw JsonnetException.Static(t.Location, "unexpected end of file.");
            default:
                throw JsonnetException.Static(t.Location, $"unexpected: {Describe(t)} while parsing terminal");
        }
    }

    private Node ParseArray()
    {
        var open = Pop();
        var elements = new List<Node>();
        if (Peek.Kind == TokenKind.RightBracket)
        {
            var c = Pop();
            return new ArrayNode(Span(open.Location, c.Location), []);
        }
        var first = ParseExpr();
        if (Peek.Kind == TokenKind.Comma && PeekAt(1).Kind == TokenKind.For)
        {
            Pop();
        }
        if (Peek.Kind == TokenKind.For)
        {
            var specs = ParseCompSpecs();
            var close = Expect(TokenKind.RightBracket, "\"]\"");
            return new ArrayComprehensionNode(Span(open.Location, close.Location), first, specs);
        }
        elements.Add(first);
        while (true)
        {
            if (Peek.Kind == TokenKind.RightBracket)
            {
                var c = Pop();
                return new ArrayNode(Span(open.Location, c.Location), elements.ToArray());
            }
            if (Peek.Kind != TokenKind.Comma)
            {
                if (Peek.Kind == TokenKind.EndOfFile)
                {
                    throw JsonnetException.Static(Peek.Location, "unexpected end of file.");
                }
                throw JsonnetException.Static(Peek.Location, "expected a comma before next array element.");
            }
            Pop();
            if (Peek.Kind == TokenKind.RightBracket)
            {
                continue;
            }
            elements.Add(ParseExpr());
        }
    }

    private CompSpec[] ParseCompSpecs()
    {
        var specs = new List<CompSpec>();
        while (true)
        {
            if (Peek.Kind == TokenKind.For)
            {
                var f = Pop();
                var id = Expect(TokenKind.Identifier, "IDENTIFIER");
                Expect(TokenKind.In, "in");
                var src = ParseExpr();
                specs.Add(new ForSpec(f.Location, id.Text, src));
            }
            else if (Peek.Kind == TokenKind.If)
            {
                var i = Pop();
                specs.Add(new IfSpec(i.Location, ParseExpr()));
            }
            else
            {
                return specs.ToArray();
            }
        }
    }

    private Node ParseObject()
    {
        var open = Expect(TokenKind.LeftBrace, "\"{\"");
        var fields = new List<FieldNode>();
        var locals = new List<Bind>();
        var asserts = new List<AssertNode>();
        var fixedNames = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            if (Peek.Kind == TokenKind.RightBrace)
            {
                var close = Pop();
                return new ObjectNode(Span(open.Location, close.Location), fields.ToArray(), locals.ToArray(), asserts.ToArray());
            }
            if (Peek.Kind == TokenKind.Local)
            {
                Pop();
                var b = ParseBind();
                if (locals.Exists(x => x.Name == b.Name))
                {
                    throw JsonnetException.Static(b.Location, $"duplicate local var: {b.Name}");
                }
                locals.Add(b);
            }
            else if (Peek.Kind == TokenKind.Assert)
            {
                var a = Pop();
                var cond = ParseExpr();
                Node? msg = null;
                if (IsOp(Peek, ":"))
                {
                    Pop();
                    msg = ParseExpr();
                }
                asserts.Add(new AssertNode(Span(a.Location, (msg ?? cond).Location), cond, msg));
            }
            else
            {
                var field = ParseField();
                if (field.FixedName is { } name && !fixedNames.Add(name))
                {
                    throw JsonnetException.Static(field.Location, $"Duplicate field: {name}");
                }
                fields.Add(field);
            }
            if (Peek.Kind == TokenKind.Comma)
            {
                Pop();
                if (Peek.Kind == TokenKind.For)
                {
                    return FinishObjectComprehension(open, fields, locals, asserts);
                }
                continue;
            }
            if (Peek.Kind == TokenKind.For)
            {
                return FinishObjectComprehension(open, fields, locals, asserts);
            }
            if (Peek.Kind != TokenKind.RightBrace)
            {
                if (Peek.Kind == TokenKind.EndOfFile)
                {
                    throw JsonnetException.Static(Peek.Location, "unexpected end of file.");
                }
                throw JsonnetException.Static(Peek.Location, "expected a comma before next field.");
            }
        }
    }

    private ObjectComprehensionNode FinishObjectComprehension(Token open, List<FieldNode> fields, List<Bind> locals, List<AssertNode> asserts)
    {
        if (fields.Count != 1 || asserts.Count > 0)
        {
            throw JsonnetException.Static(Peek.Location, "Object comprehension can only have one field.");
        }
        var field = fields[0];
        if (field.NameExpr is null)
        {
            throw JsonnetException.Static(field.Location, "Object comprehensions can only have [e] fields.");
        }
        var specs = ParseCompSpecs();
        var close = Expect(TokenKind.RightBrace, "\"}\"");
        return new ObjectComprehensionNode(Span(open.Location, close.Location), locals.ToArray(), field.NameExpr, field.Body, field.Plus, field.Visibility, specs);
    }

    private FieldNode ParseField()
    {
        var start = Peek;
        string? fixedName = null;
        Node? nameExpr = null;
        switch (start.Kind)
        {
            case TokenKind.Identifier:
                Pop();
                fixedName = start.Text;
                break;
            case TokenKind.String:
                Pop();
                fixedName = start.Text;
                break;
            case TokenKind.LeftBracket:
                Pop();
                nameExpr = ParseExpr();
                Expect(TokenKind.RightBracket, "\"]\"");
                break;
            default:
                if (start.Kind == TokenKind.EndOfFile)
                {
                    throw JsonnetException.Static(start.Location, "unexpected end of file.");
                }
                throw JsonnetException.Static(start.Location, $"unexpected: {Describe(start)} while parsing field definition");
        }
        Parameter[]? ps = null;
        if (Peek.Kind == TokenKind.LeftParen)
        {
            ps = ParseParams();
        }
        var opTok = Peek;
        if (opTok.Kind != TokenKind.Operator)
        {
            throw JsonnetException.Static(opTok.Location, $"expected one of :, ::, :::, +:, +::, +:::, got: {Describe(opTok)}");
        }
        var (plus, vis) = opTok.Text switch
        {
            ":" => (false, FieldVisibility.Inherit),
            "::" => (false, FieldVisibility.Hidden),
            ":::" => (false, FieldVisibility.Visible),
            "+:" => (true, FieldVisibility.Inherit),
            "+::" => (true, FieldVisibility.Hidden),
            "+:::" => (true, FieldVisibility.Visible),
            _ => throw JsonnetException.Static(opTok.Location, $"expected one of :, ::, :::, +:, +::, +:::, got: {opTok.Text}"),
        };
        Pop();
        if (plus && ps is not null)
        {
            throw JsonnetException.Static(start.Location, $"cannot use +: syntax sugar in a method: {fixedName}");
        }
        var body = ParseExpr();
        if (ps is not null)
        {
            body = new FunctionNode(Span(start.Location, body.Location), ps, body) { Name = fixedName };
        }
        return new FieldNode(Span(start.Location, body.Location), fixedName, nameExpr, vis, plus, body);
    }
}
