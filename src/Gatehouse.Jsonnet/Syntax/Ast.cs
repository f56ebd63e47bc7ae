namespace Gatehouse.Jsonnet.Syntax;

internal enum NodeKind
{
    Null,
    True,
    False,
    Number,
    String,
    Self,
    Dollar,
    Var,
    Array,
    ArrayComprehension,
    Object,
    ObjectComprehension,
    Index,
    SuperIndex,
    InSuper,
    Apply,
    Function,
    Local,
    If,
    Binary,
    Unary,
    Error,
    Assert,
    Import,
    ImportStr,
    ImportBin,
}

internal enum BinaryOp
{
    Mul,
    Div,
    Mod,
    Add,
    Sub,
    ShiftLeft,
    ShiftRight,
    Less,
    LessEq,
    Greater,
    GreaterEq,
    In,
    Equal,
    NotEqual,
    BitAnd,
    BitXor,
    BitOr,
    And,
    Or,
}

internal enum UnaryOp
{
    Not,
    BitNot,
    Plus,
    Minus,
}

internal enum FieldVisibility
{
    Inherit,
    Hidden,
    Visible,
}

internal abstract class Node(NodeKind kind, SourceLocation location)
{
    public NodeKind Kind { get; } = kind;

    public SourceLocation Location { get; } = location;
}

internal sealed class LiteralNode(NodeKind kind, SourceLocation location) : Node(kind, location);

internal sealed class NumberNode(SourceLocation location, double value) : Node(NodeKind.Number, location)
{
    public double Value { get; } = value;

    public Runtime.Value? Constant { get; set; }
}

internal sealed class StringNode(SourceLocation location, string value) : Node(NodeKind.String, location)
{
    public string Value { get; } = value;

    public Runtime.Value? Constant { get; set; }
}

internal sealed class VarNode(SourceLocation location, string name) : Node(NodeKind.Var, location)
{
    public string Name { get; } = name;
}

internal sealed class ArrayNode(SourceLocation location, Node[] elements) : Node(NodeKind.Array, location)
{
    public Node[] Elements { get; } = elements;
}

internal abstract record CompSpec(SourceLocation Location);

internal sealed record ForSpec(SourceLocation Location, string Variable, Node Source) : CompSpec(Location);

internal sealed record IfSpec(SourceLocation Location, Node Condition) : CompSpec(Location);

internal sealed class ArrayComprehensionNode(SourceLocation location, Node body, CompSpec[] specs) : Node(NodeKind.ArrayComprehension, location)
{
    public Node Body { get; } = body;

    public CompSpec[] Specs { get; } = specs;
}

internal sealed record Bind(SourceLocation Location, string Name, Node Body);

internal sealed record FieldNode(SourceLocation Location, string? FixedName, Node? NameExpr, FieldVisibility Visibility, bool Plus, Node Body);

internal sealed record AssertNode(SourceLocation Location, Node Condition, Node? Message);

internal sealed class ObjectNode(SourceLocation location, FieldNode[] fields, Bind[] locals, AssertNode[] asserts) : Node(NodeKind.Object, location)
{
    public FieldNode[] Fields { get; } = fields;

    public Bind[] Locals { get; } = locals;

    public AssertNode[] Asserts { get; } = asserts;

    /// <summary>True for an object not nested in another object's body: it binds <c>$</c>.</summary>
    public bool BindsDollar { get; set; }

    /// <summary>The variable the literal is bound to, for stack traces.</summary>
    public string? Name { get; set; }

    /// <summary>Field table shared by all instances when every field name is fixed (set on first evaluation).</summary>
    public Runtime.LayerShape? Shape { get; set; }
}

internal sealed class ObjectComprehensionNode(SourceLocation location, Bind[] locals, Node key, Node value, bool plus, FieldVisibility visibility, CompSpec[] specs)
    : Node(NodeKind.ObjectComprehension, location)
{
    public Bind[] Locals { get; } = locals;

    public Node Key { get; } = key;

    public Node Value { get; } = value;

    public bool Plus { get; } = plus;

    public FieldVisibility Visibility { get; } = visibility;

    public CompSpec[] Specs { get; } = specs;

    public bool BindsDollar { get; set; }
}

internal sealed class IndexNode(SourceLocation location, Node target, Node index) : Node(NodeKind.Index, location)
{
    public Node Target { get; } = target;

    public Node IndexExpr { get; } = index;
}

internal sealed class SuperIndexNode(SourceLocation location, Node index) : Node(NodeKind.SuperIndex, location)
{
    public Node IndexExpr { get; } = index;
}

internal sealed class InSuperNode(SourceLocation location, Node key) : Node(NodeKind.InSuper, location)
{
    public Node Key { get; } = key;
}

internal sealed record NamedArg(string Name, Node Value);

internal sealed class ApplyNode(SourceLocation location, Node target, Node[] positional, NamedArg[] named, bool tailStrict) : Node(NodeKind.Apply, location)
{
    public Node Target { get; } = target;

    public Node[] Positional { get; } = positional;

    public NamedArg[] Named { get; } = named;

    public bool TailStrict { get; } = tailStrict;
}

internal sealed record Parameter(SourceLocation Location, string Name, Node? Default);

internal sealed class FunctionNode(SourceLocation location, Parameter[] parameters, Node body) : Node(NodeKind.Function, location)
{
    public Parameter[] Parameters { get; } = parameters;

    public Node Body { get; } = body;

    /// <summary>The name the function is bound to, for stack traces.</summary>
    public string? Name { get; set; }
}

internal sealed class LocalNode(SourceLocation location, Bind[] binds, Node body) : Node(NodeKind.Local, location)
{
    public Bind[] Binds { get; } = binds;

    public Node Body { get; } = body;
}

internal sealed class IfNode(SourceLocation location, Node condition, Node then, Node? otherwise) : Node(NodeKind.If, location)
{
    public Node Condition { get; } = condition;

    public Node Then { get; } = then;

    public Node? Else { get; } = otherwise;
}

internal sealed class BinaryNode(SourceLocation location, BinaryOp op, Node left, Node right) : Node(NodeKind.Binary, location)
{
    public BinaryOp Op { get; } = op;

    public Node Left { get; } = left;

    public Node Right { get; } = right;
}

internal sealed class UnaryNode(SourceLocation location, UnaryOp op, Node operand) : Node(NodeKind.Unary, location)
{
    public UnaryOp Op { get; } = op;

    public Node Operand { get; } = operand;
}

internal sealed class ErrorNode(SourceLocation location, Node message) : Node(NodeKind.Error, location)
{
    public Node Message { get; } = message;
}

internal sealed class AssertExprNode(SourceLocation location, Node condition, Node? message, Node rest) : Node(NodeKind.Assert, location)
{
    public Node Condition { get; } = condition;

    public Node? Message { get; } = message;

    public Node Rest { get; } = rest;
}

internal sealed class ImportNode(NodeKind kind, SourceLocation location, string path) : Node(kind, location)
{
    public string Path { get; } = path;
}
