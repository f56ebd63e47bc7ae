namespace Gatehouse.Jsonnet.Syntax;

internal enum TokenKind
{
    EndOfFile,
    Identifier,
    Number,
    String,
    Operator,
    LeftBrace,
    RightBrace,
    LeftBracket,
    RightBracket,
    LeftParen,
    RightParen,
    Comma,
    Dot,
    Semicolon,
    Dollar,
    Assert,
    Else,
    Error,
    False,
    For,
    Function,
    If,
    Import,
    ImportStr,
    ImportBin,
    In,
    Local,
    Null,
    TailStrict,
    Then,
    Self,
    Super,
    True,
}

internal enum StringKind
{
    None,
    Double,
    Single,
    VerbatimDouble,
    VerbatimSingle,
    TextBlock,
}

internal sealed record Token(TokenKind Kind, string Text, SourceLocation Location, StringKind StringKind = StringKind.None, double Number = 0)
{
    public override string ToString() => Kind switch
    {
        TokenKind.EndOfFile => "end of file",
        TokenKind.String => "STRING",
        TokenKind.Number => "NUMBER",
        TokenKind.Identifier => "IDENTIFIER",
        _ => Text,
    };
}
