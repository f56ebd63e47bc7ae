namespace Gatehouse.Jsonnet.Tests;

public sealed class ParserTests
{
    [Theory]
    [InlineData("[1, 2, ]", "[1,2]")]
    [InlineData("{a: 1, }", "{\"a\":1}")]
    [InlineData("local f(x, y=2, ) = x + y; f(1, )", "3")]
    [InlineData("{'quoted key': 1, \"double\": 2}", "{\"double\":2,\"quoted key\":1}")]
    [InlineData("local o = {a: {b: {c: 3}}}; [o.a.b.c, o['a']['b'].c]", "[3,3]")]
    [InlineData("(function(x) function(y) x * y)(3)(4)", "12")]
    [InlineData("1 + if false then 2 else 3 + 4", "8")]
    [InlineData("-1 - -1", "0")]
    [InlineData("!true == false", "true")]
    [InlineData("2 * 3 % 4", "2")]
    [InlineData("1 + 2 == 3 && 2 < 3 || false", "true")]
    [InlineData("1 | 2 ^ 3 & 4", "3")]
    [InlineData("[x for x in [1, 2] if x > 1 for y in [0, 0]]", "[2,2]")]
    [InlineData("{ [x]: 1 for x in ['a'] }", "{\"a\":1}")]
    [InlineData("{ local a = 1, [x]: a, local b = 2 for x in ['k'] }", "{\"k\":1}")]
    [InlineData("local x = 1; local y = x; [x, y]", "[1,1]")]
    [InlineData("assert true; assert 1 == 1 : 'msg'; 'ok'", "\"ok\"")]
    [InlineData("{a: 1} {b: 2} {c: 3}", "{\"a\":1,\"b\":2,\"c\":3}")]
    [InlineData("'a' in {a: 1}", "true")]
    [InlineData("1_000 + 1", "1001")]
    [InlineData("1.5e2 + 0.5E-1", "150.05000000000001")]
    [InlineData("@\"c:\\path\"", "\"c:\\\\path\"")]
    [InlineData("'\\u0041\\ud83d\\udcd8'", "\"A📘\"")]
    public void Parses(string code, string expected) => Assert.Equal(expected, Eval.Min(code));

    [Theory]
    [InlineData("{a: 1 b: 2}", "expected a comma before next field.")]
    [InlineData("[1 2]", "expected a comma before next array element.")]
    [InlineData("local x = 1 x", "expected token \";\" but got IDENTIFIER")]
    [InlineData("f(a=1, 2)", "Positional argument after a named argument is not allowed")]
    [InlineData("{a(x)+: x}", "cannot use +: syntax sugar in a method: a")]
    [InlineData("{ local x = 1, local x = 2, a: x }", "duplicate local var: x")]
    [InlineData("'\\q'", "Unknown escape sequence in string literal: 'q'")]
    [InlineData("'\\u12'", "Truncated unicode escape sequence in string literal.")]
    [InlineData("'\\u12x4'", "Malformed unicode escape character, should be hex: 'x'")]
    [InlineData("|||\n  a\n", "text block not terminated with |||")]
    [InlineData("|||a\n  b\n|||", "text block syntax requires new line after |||.")]
    [InlineData("/* open", "multi-line comment has no terminating */.")]
    [InlineData("1 +", "unexpected end of file.")]
    [InlineData("import |||\n  x\n|||", "Cannot use text blocks in import statements.")]
    [InlineData("super.x", "Can't use super outside of an object.")]
    [InlineData("$.x", "No top-level object found.")]
    [InlineData("1 ; 2", "Did not expect: \";\"")]
    [InlineData(".5", "unexpected: \".\" while parsing terminal")]
    [InlineData("1.", "Couldn't lex number, junk after decimal point: end of file")]
    public void Reports_static_errors(string code, string message)
    {
        var e = Eval.Error(code);
        Assert.Equal(JsonnetErrorKind.Static, e.Kind);
        Assert.Equal(message, e.Message);
    }
}
