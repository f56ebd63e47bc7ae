namespace Gatehouse.Jsonnet.Tests;

public sealed class LanguageTests
{
    [Theory]
    // literals and arithmetic
    [InlineData("null", "null")]
    [InlineData("true && !false", "true")]
    [InlineData("1 + 2 * 3 - 4 / 2", "5")]
    [InlineData("7 % 3", "1")]
    [InlineData("-7 % 3", "-1")]
    [InlineData("1e3", "1000")]
    [InlineData("0.1 + 0.2", "0.30000000000000004")]
    [InlineData("1 / 3", "0.33333333333333331")]
    [InlineData("5 & 3 | 8 ^ 1", "9")]
    [InlineData("1 << 4 >> 2", "4")]
    [InlineData("~5", "-6")]
    [InlineData("1 < 2 && 'a' < 'b' && [1, 2] < [1, 3]", "true")]
    [InlineData("[1, [2]] == [1, [2]] && {a: 1} == {a: 1} && {a: 1} != {a: 2}", "true")]
    // strings
    [InlineData("'a' + 'b' + 1 + true + null", "\"ab1truenull\"")]
    [InlineData("'x' + [1, 'a'] + {k: 'v'}", "\"x[1, \\\"a\\\"]{\\\"k\\\": \\\"v\\\"}\"")]
    [InlineData("\"\\u00e9\\t\\\\\"", "\"é\\t\\\\\"")]
    [InlineData("@'a''b\\n'", "\"a'b\\\\n\"")]
    [InlineData("'abc'[1]", "\"b\"")]
    [InlineData("|||\n  line one\n    indented\n|||", "\"line one\\n  indented\\n\"")]
    [InlineData("|||-\n  chomped\n|||", "\"chomped\"")]
    [InlineData("'%s=%05.1f %d%%' % ['x', 3.14159, 42]", "\"x=003.1 42%\"")]
    [InlineData("'%(a)s-%(b)03d' % {a: 'k', b: 7}", "\"k-007\"")]
    // locals and functions
    [InlineData("local x = 1, y = x + 1; y * 2", "4")]
    [InlineData("local fib(n) = if n < 2 then n else fib(n - 1) + fib(n - 2); fib(20)", "6765")]
    [InlineData("local f(a, b=a + 1) = [a, b]; [f(1), f(1, 5), f(b=0, a=2)]", "[[1,2],[1,5],[2,0]]")]
    [InlineData("local add(x) = function(y) x + y; add(2)(3)", "5")]
    [InlineData("local f(x) = 1; f(error 'never forced')", "1")]
    [InlineData("local sum(n, acc) = if n == 0 then acc else sum(n - 1, acc + n) tailstrict; sum(100000, 0)", "5000050000")]
    [InlineData("std.length(function(a, b) a)", "2")]
    [InlineData("if false then 1", "null")]
    // arrays
    [InlineData("[x * 2 for x in [1, 2, 3] if x != 2]", "[2,6]")]
    [InlineData("[[x, y] for x in [1, 2] for y in ['a', 'b']]", "[[1,\"a\"],[1,\"b\"],[2,\"a\"],[2,\"b\"]]")]
    [InlineData("[1, 2] + [3]", "[1,2,3]")]
    [InlineData("[0, 1, 2, 3, 4, 5][1:5:2]", "[1,3]")]
    [InlineData("[0, 1, 2, 3][-2:]", "[2,3]")]
    [InlineData("'hello'[::2]", "\"hlo\"")]
    [InlineData("local a = [1, error 'lazy']; a[0]", "1")]
    // objects
    [InlineData("{b: 2, a: 1}", "{\"a\":1,\"b\":2}")]
    [InlineData("{a: 1, b:: 2, c::: 3}", "{\"a\":1,\"c\":3}")]
    [InlineData("{a:: 1} + {a: 2}", "{}")]
    [InlineData("{a:: 1} + {a::: 2}", "{\"a\":2}")]
    [InlineData("{a: 1, b: self.a + 1}", "{\"a\":1,\"b\":2}")]
    [InlineData("{a: 1, b: self.a} + {a: 10}", "{\"a\":10,\"b\":10}")]
    [InlineData("{a: 1} + {a: super.a + 1}", "{\"a\":2}")]
    [InlineData("{a: {x: 1}} + {a+: {y: 2}}", "{\"a\":{\"x\":1,\"y\":2}}")]
    [InlineData("{a+: [1]}", "{\"a\":[1]}")]
    [InlineData("{x: 1, inner: {y: $.x}}", "{\"inner\":{\"y\":1},\"x\":1}")]
    [InlineData("{local l = self.a * 2, a: 3, b: l}", "{\"a\":3,\"b\":6}")]
    [InlineData("{['k' + i]: i for i in [1, 2]}", "{\"k1\":1,\"k2\":2}")]
    [InlineData("{[null]: 1, b: 2}", "{\"b\":2}")]
    [InlineData("{f(x):: x * 2, y: self.f(4)}", "{\"y\":8}")]
    [InlineData("local o = {a: 1} { b: 2 }; o", "{\"a\":1,\"b\":2}")]
    [InlineData("'a' in {a: 1} && 'h' in {h:: 1} && !('z' in {})", "true")]
    [InlineData("{a: 1} + {b: 'a' in super}", "{\"a\":1,\"b\":true}")]
    [InlineData("{assert self.a > 0, a: 1}", "{\"a\":1}")]
    [InlineData("std.objectFields({a: 1} + {b: 2} + {c:: 3})", "[\"a\",\"b\"]")]
    // assert and error are lazy in unused branches
    [InlineData("assert 1 < 2 : 'no'; 'ok'", "\"ok\"")]
    [InlineData("if true then 1 else error 'x'", "1")]
    public void Evaluates_to(string code, string expected) => Assert.Equal(expected, Eval.Min(code));

    [Fact]
    public void Object_assertions_fail_on_access() =>
        Assert.Equal("Object assertion failed.", Eval.Error("{assert self.a > 1, a: 1}.a").Message);

    [Fact]
    public void Assertion_messages_are_used() =>
        Assert.Equal("too small", Eval.Error("{assert self.a > 1 : 'too small', a: 1}").Message);

    [Fact]
    public void Error_with_a_non_string_value_is_shown_as_json() =>
        Assert.Equal("{\"a\": [1, 2]}", Eval.Error("error {a: [1, 2]}").Message);

    [Fact]
    public void Self_recursion_is_lazy_until_needed() =>
        Assert.Equal("{\"n\":3}", Eval.Min("local o = {n: 3, next: o {n: super.n - 1}}; {n: o.n}"));

    [Fact]
    public void Shebang_and_comments_are_ignored() =>
        Assert.Equal("3", Eval.Min("#!/usr/bin/env jsonnet\n// line\n/* block */ 1 + # hash\n 2"));

    [Fact]
    public void Text_blocks_keep_crlf_line_endings_like_the_reference() =>
        Assert.Equal("{\"text\":\"A paragraph\\r\\nof text.\\r\\n\"}", Eval.Min("{\r\n  text: |||\r\n    A paragraph\r\n    of text.\r\n  |||,\r\n}\r\n"));

    [Fact]
    public void Object_comprehensions_see_locals_super_and_dollar() =>
        Assert.Equal("{\"a\":1,\"b\":2,\"c\":1}", Eval.Min("{a: 1} + {local one = 1, [k]: (if k == 'b' then super.a + one else $.a) for k in ['b', 'c']}"));

    [Fact]
    public void Object_remove_key_keeps_inheritance() =>
        Assert.Equal("{\"a\":1,\"b\":1}", Eval.Min("{a: 1} + std.objectRemoveKey({b: super.a, c: 3}, 'c')"));

    [Fact]
    public void Negative_zero_prints_with_its_sign() => Assert.Equal("-0", Eval.Pretty("-0"));
}
