using System.Globalization;
using System.Text;

namespace Gatehouse.Jsonnet.Syntax;

/// <summary>Turns Jsonnet source text into tokens.</summary>
internal sealed class Lexer
{
    private const string OperatorChars = "!$:~+-&|^=<>*/%";

    private static readonly Dictionary<string, TokenKind> s_keywords = new(StringComparer.Ordinal)
    {
        ["assert"] = TokenKind.Assert,
        ["else"] = TokenKind.Else,
        ["error"] = TokenKind.Error,
        ["false"] = TokenKind.False,
        ["for"] = TokenKind.For,
        ["function"] = TokenKind.Function,
        ["if"] = TokenKind.If,
        ["import"] = TokenKind.Import,
        ["importstr"] = TokenKind.ImportStr,
        ["importbin"] = TokenKind.ImportBin,
        ["in"] = TokenKind.In,
        ["local"] = TokenKind.Local,
        ["null"] = TokenKind.Null,
        ["tailstrict"] = TokenKind.TailStrict,
        ["then"] = TokenKind.Then,
        ["self"] = TokenKind.Self,
        ["super"] = TokenKind.Super,
        ["true"] = TokenKind.True,
    };

    private static readonly HashSet<string> s_operators =
    [
        "!", "~", "+", "-", "*", "/", "%", "&", "|", "^", "=", "<", ">", "==", "!=", "<=", ">=", "<<", ">>",
        "&&", "||", ":", "::", ":::", "+:", "+::", "+:::",
    ];

    private readonly string _text;
    private readonly string _file;
    private int _pos;
    private int _line = 1;
    private int _lineStart;

    private Lexer(string file, string text)
    {
        _file = file;
        _text = text;
    }

    public static List<Token> Tokenize(string file, string text)
    {
        var lexer = new Lexer(file, text);
        var tokens = new List<Token>();
        while (true)
        {
            var token = lexer.Next();
            tokens.Add(token);
            if (token.Kind == TokenKind.EndOfFile)
            {
                return tokens;
            }
        }
    }

    private int Column => _pos - _lineStart + 1;

    private char Peek(int offset = 0) => _pos + offset < _text.Length ? _text[_pos + offset] : '\0';

    private bool AtEnd(int offset = 0) => _pos + offset >= _text.Length;

    private void NewLine()
    {
        _line++;
        _lineStart = _pos;
    }

    private SourceLocation Here() => new(_file, _line, Column, _line, Column + 1);

    private SourceLocation From(int line, int column) => new(_file, line, column, _line, Column);

    private JsonnetException Error(SourceLocation at, string message) => JsonnetException.Static(at, message);

    private void SkipWhitespaceAndComments()
    {
        while (!AtEnd())
        {
            var c = Peek();
            if (c == '\n')
            {
                _pos++;
                NewLine();
            }
            else if (c is ' ' or '\t' or '\r')
            {
                _pos++;
            }
            else if (c == '#' || (c == '/' && Peek(1) == '/'))
            {
                while (!AtEnd() && Peek() != '\n')
                {
                    _pos++;
                }
            }
            else if (c == '/' && Peek(1) == '*')
            {
                var start = Here();
                _pos += 2;
                while (true)
                {
                    if (AtEnd())
                    {
                        throw Error(start, "multi-line comment has no terminating */.");
                    }
                    if (Peek() == '*' && Peek(1) == '/')
                    {
                        _pos += 2;
                        break;
                    }
                    if (Peek() == '\n')
                    {
                        _pos++;
                        NewLine();
                    }
                    else
                    {
                        _pos++;
                    }
                }
            }
            else
            {
                return;
            }
        }
    }

    private Token Next()
    {
        SkipWhitespaceAndComments();
        var line = _line;
        var column = Column;
        if (AtEnd())
        {
            return new Token(TokenKind.EndOfFile, "", Here());
        }
        var c = Peek();
        switch (c)
        {
            case '{': _pos++; return new Token(TokenKind.LeftBrace, "{", From(line, column));
            case '}': _pos++; return new Token(TokenKind.RightBrace, "}", From(line, column));
            case '[': _pos++; return new Token(TokenKind.LeftBracket, "[", From(line, column));
            case ']': _pos++; return new Token(TokenKind.RightBracket, "]", From(line, column));
            case '(': _pos++; return new Token(TokenKind.LeftParen, "(", From(line, column));
            case ')': _pos++; return new Token(TokenKind.RightParen, ")", From(line, column));
            case ',': _pos++; return new Token(TokenKind.Comma, ",", From(line, column));
            case '.': _pos++; return new Token(TokenKind.Dot, ".", From(line, column));
            case ';': _pos++; return new Token(TokenKind.Semicolon, ";", From(line, column));
            case '"':
            case '\'':
                return LexQuoted(c, line, column);
            case '@':
                if (Peek(1) is '"' or '\'')
                {
                    return LexVerbatim(line, column);
                }
                throw Error(Here(), "couldn't lex verbatim string, junk after '@': " + Peek(1));
        }
        if (c == '|' && Peek(1) == '|' && Peek(2) == '|')
        {
            return LexTextBlock(line, column);
        }
        if (char.IsAsciiDigit(c))
        {
            return LexNumber(line, column);
        }
        if (char.IsAsciiLetter(c) || c == '_')
        {
            var start = _pos;
            while (!AtEnd() && (char.IsAsciiLetterOrDigit(Peek()) || Peek() == '_'))
            {
                _pos++;
            }
            var word = _text[start.._pos];
            var kind = s_keywords.TryGetValue(word, out var k) ? k : TokenKind.Identifier;
            return new Token(kind, string.Intern(word), From(line, column));
        }
        if (c == '$' && !(Peek(1) is var n && OperatorChars.Contains(n, StringComparison.Ordinal) && n != '$'))
        {
            _pos++;
            return new Token(TokenKind.Dollar, "$", From(line, column));
        }
        if (OperatorChars.Contains(c, StringComparison.Ordinal))
        {
            return LexOperator(line, column);
        }
        throw Error(Here(), "Could not lex the character " + (c < 32 ? $"code {(int)c}" : $"'{c}'"));
    }

    private Token LexOperator(int line, int column)
    {
        var start = _pos;
        while (!AtEnd() && OperatorChars.Contains(Peek(), StringComparison.Ordinal))
        {
            // Comments and text blocks end an operator.
            if (_pos > start && ((Peek() == '/' && Peek(1) is '/' or '*') || (Peek() == '|' && Peek(1) == '|' && Peek(2) == '|')))
            {
                break;
            }
            _pos++;
        }
        // An operator of several characters may not end in + - ~ ! $ (so that "a=-1" is "=" then "-").
        while (_pos - start > 1 && "+-~!$".Contains(_text[_pos - 1], StringComparison.Ordinal))
        {
            _pos--;
        }
        var op = _text[start.._pos];
        if (!s_operators.Contains(op))
        {
            throw Error(From(line, column), "Not a valid operator: " + op);
        }
        return new Token(TokenKind.Operator, op, From(line, column));
    }

    private Token LexNumber(int line, int column)
    {
        var sb = new StringBuilder();
        void Digits()
        {
            while (!AtEnd())
            {
                if (char.IsAsciiDigit(Peek()))
                {
                    sb.Append(Peek());
                    _pos++;
                }
                else if (Peek() == '_' && char.IsAsciiDigit(Peek(1)) && _pos > 0 && char.IsAsciiDigit(_text[_pos - 1]))
                {
                    _pos++;
                }
                else
                {
                    break;
                }
            }
        }
        if (Peek() == '0')
        {
            sb.Append('0');
            _pos++;
        }
        else
        {
            Digits();
        }
        if (Peek() == '.' && char.IsAsciiDigit(Peek(1)))
        {
            sb.Append('.');
            _pos++;
            Digits();
        }
        else if (Peek() == '.')
        {
            throw Error(Here(), $"Couldn't lex number, junk after decimal point: {Describe(Peek(1))}");
        }
        if (Peek() is 'e' or 'E')
        {
            sb.Append('e');
            _pos++;
            if (Peek() is '+' or '-')
            {
                sb.Append(Peek());
                _pos++;
            }
            if (!char.IsAsciiDigit(Peek()))
            {
                throw Error(Here(), $"Couldn't lex number, junk after 'E': {Describe(Peek())}");
            }
            Digits();
        }
        var text = sb.ToString();
        var value = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        return new Token(TokenKind.Number, text, From(line, column), Number: value);
    }

    private string Describe(char c) => AtEnd(1) && c == '\0' ? "end of file" : $"'{c}'";

    private Token LexQuoted(char quote, int line, int column)
    {
        var startLoc = Here();
        _pos++;
        var sb = new StringBuilder();
        while (true)
        {
            if (AtEnd())
            {
                throw Error(startLoc, "unterminated string");
            }
            var c = Peek();
            if (c == quote)
            {
                _pos++;
                break;
            }
            if (c == '\n')
            {
                sb.Append(c);
                _pos++;
                NewLine();
                continue;
            }
            if (c != '\\')
            {
                sb.Append(c);
                _pos++;
                continue;
            }
            _pos++;
            if (AtEnd())
            {
                throw Error(startLoc, "unterminated string");
            }
            var e = Peek();
            _pos++;
            switch (e)
            {
                case '"': sb.Append('"'); break;
                case '\'': sb.Append('\''); break;
                case '\\': sb.Append('\\'); break;
                case '/': sb.Append('/'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'u':
                    var code = ReadHex4(startLoc, line, column, quote);
                    if (code is >= 0xD800 and < 0xDC00 && Peek() == '\\' && Peek(1) == 'u')
                    {
                        var save = _pos;
                        _pos += 2;
                        var low = ReadHex4(startLoc, line, column, quote);
                        if (low is >= 0xDC00 and < 0xE000)
                        {
                            sb.Append((char)code).Append((char)low);
                            break;
                        }
                        _pos = save;
                    }
                    sb.Append((char)code);
                    break;
                case '\n':
                    throw Error(From(line, column), "Unknown escape sequence in string literal: '\n'");
                default:
                    SkipToStringEnd(quote);
                    throw Error(From(line, column), $"Unknown escape sequence in string literal: '{e}'");
            }
        }
        return new Token(TokenKind.String, sb.ToString(), From(line, column), quote == '"' ? StringKind.Double : StringKind.Single);
    }

    private bool SkipToStringEnd(char quote)
    {
        while (!AtEnd() && Peek() != quote)
        {
            if (Peek() == '\\')
            {
                _pos++;
            }
            if (!AtEnd() && Peek() == '\n')
            {
                _pos++;
                NewLine();
                continue;
            }
            _pos++;
        }
        if (!AtEnd())
        {
            _pos++;
            return true;
        }
        return false;
    }

    private int ReadHex4(SourceLocation startLoc, int line, int column, char quote)
    {
        var value = 0;
        for (var i = 0; i < 4; i++)
        {
            if (AtEnd())
            {
                throw Error(startLoc, "unterminated string");
            }
            var h = Peek();
            int digit;
            if (char.IsAsciiDigit(h))
            {
                digit = h - '0';
            }
            else if (h is >= 'a' and <= 'f')
            {
                digit = h - 'a' + 10;
            }
            else if (h is >= 'A' and <= 'F')
            {
                digit = h - 'A' + 10;
            }
            else
            {
                if (h == quote)
                {
                    _pos++;
                    throw Error(From(line, column), "Truncated unicode escape sequence in string literal.");
                }
                _pos++;
                if (!SkipToStringEnd(quote))
                {
                    throw Error(startLoc, "unterminated string");
                }
                throw Error(From(line, column), $"Malformed unicode escape character, should be hex: '{h}'");
            }
            value = (value * 16) + digit;
            _pos++;
        }
        return value;
    }

    private Token LexVerbatim(int line, int column)
    {
        var startLoc = Here();
        var quote = Peek(1);
        _pos += 2;
        var sb = new StringBuilder();
        while (true)
        {
            if (AtEnd())
            {
                throw Error(startLoc, "unterminated string");
            }
            var c = Peek();
            if (c == quote)
            {
                if (Peek(1) == quote)
                {
                    sb.Append(quote);
                    _pos += 2;
                    continue;
                }
                _pos++;
                break;
            }
            sb.Append(c);
            _pos++;
            if (c == '\n')
            {
                NewLine();
            }
        }
        return new Token(TokenKind.String, sb.ToString(), From(line, column), quote == '"' ? StringKind.VerbatimDouble : StringKind.VerbatimSingle);
    }

    private Token LexTextBlock(int line, int column)
    {
        var startLoc = Here();
        _pos += 3;
        var chomp = false;
        if (Peek() == '-')
        {
            chomp = true;
            _pos++;
        }
        while (Peek() is ' ' or '\t' or '\r')
        {
            _pos++;
        }
        if (Peek() != '\n')
        {
            throw Error(startLoc, "text block syntax requires new line after |||.");
        }
        _pos++;
        NewLine();
        var sb = new StringBuilder();
        // Blank lines before the first content line are kept as newlines.
        while (Peek() == '\n' || (Peek() == '\r' && Peek(1) == '\n'))
        {
            sb.Append('\n');
            _pos += Peek() == '\r' ? 2 : 1;
            NewLine();
        }
        var prefixStart = _pos;
        while (Peek() is ' ' or '\t')
        {
            _pos++;
        }
        var prefix = _text[prefixStart.._pos];
        if (prefix.Length == 0)
        {
            if (AtEnd())
            {
                throw Error(startLoc, "unexpected EOF");
            }
            throw Error(startLoc, "text block's first line must start with whitespace.");
        }
        while (true)
        {
            // At this point the prefix of the current line has been consumed.
            while (!AtEnd() && Peek() != '\n')
            {
                sb.Append(Peek());
                _pos++;
            }
            if (AtEnd())
            {
                throw Error(startLoc, "unexpected EOF");
            }
            sb.Append('\n');
            _pos++;
            NewLine();
            // Empty lines inside the block.
            while (Peek() == '\n' || (Peek() == '\r' && Peek(1) == '\n'))
            {
                sb.Append('\n');
                _pos += Peek() == '\r' ? 2 : 1;
                NewLine();
            }
            if (AtEnd())
            {
                throw Error(startLoc, "text block not terminated with |||");
            }
            var lineStart = _pos;
            var i = 0;
            while (i < prefix.Length && _pos + i < _text.Length && _text[_pos + i] == prefix[i])
            {
                i++;
            }
            if (i == prefix.Length)
            {
                _pos += i;
                continue;
            }
            // Not the full prefix: the block must end here with |||.
            var ws = lineStart;
            while (ws < _text.Length && _text[ws] is ' ' or '\t')
            {
                ws++;
            }
            if (ws + 2 < _text.Length && _text[ws] == '|' && _text[ws + 1] == '|' && _text[ws + 2] == '|')
            {
                _pos = ws + 3;
                break;
            }
            if (ws == lineStart)
            {
                throw Error(startLoc, "text block not terminated with |||");
            }
            throw Error(startLoc, $"text block indentation mismatch: expected at least {DescribeIndent(prefix)}, found {DescribeIndent(_text[lineStart..ws])}");
        }
        var content = sb.ToString();
        if (chomp && content.EndsWith('\n'))
        {
            content = content[..^1];
        }
        return new Token(TokenKind.String, content, From(line, column), StringKind.TextBlock);
    }

    private static string DescribeIndent(string ws)
    {
        var spaces = ws.Count(ch => ch == ' ');
        var tabs = ws.Count(ch => ch == '\t');
        var parts = new List<string>();
        if (spaces > 0)
        {
            parts.Add(spaces == 1 ? "1 space" : $"{spaces} spaces");
        }
        if (tabs > 0)
        {
            parts.Add(tabs == 1 ? "1 tab" : $"{tabs} tabs");
        }
        return parts.Count == 0 ? "no indentation" : string.Join(" and ", parts);
    }
}
