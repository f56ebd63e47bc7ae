namespace Gatehouse.Jsonnet.Tests;

public sealed class StdLibTests
{
    [Theory]
    // types and reflection
    [InlineData("[std.type(null), std.type(true), std.type(1), std.type('s'), std.type([]), std.type({}), std.type(std.type)]", "[\"null\",\"boolean\",\"number\",\"string\",\"array\",\"object\",\"function\"]")]
    [InlineData("[std.isArray([]), std.isBoolean(1), std.isFunction(std.map), std.isNumber(1), std.isObject({}), std.isString(''), std.isNull(null)]", "[true,false,true,true,true,true,true]")]
    [InlineData("[std.length('héllo📘'), std.length([1, 2]), std.length({a: 1, b:: 2})]", "[6,2,1]")]
    [InlineData("std.thisFile", "\"test.jsonnet\"")]
    [InlineData("std.get({a: 1}, 'b', 'dflt')", "\"dflt\"")]
    [InlineData("std.get({a:: 1}, 'a', 0, false)", "0")]
    // objects
    [InlineData("[std.objectHas({a:: 1}, 'a'), std.objectHasAll({a:: 1}, 'a'), std.objectHasEx({a:: 1}, 'a', true)]", "[false,true,true]")]
    [InlineData("[std.objectFields({b: 1, a:: 2}), std.objectFieldsAll({b: 1, a:: 2})]", "[[\"b\"],[\"a\",\"b\"]]")]
    [InlineData("[std.objectValues({b: 1, a: 2}), std.objectValuesAll({a:: 3})]", "[[2,1],[3]]")]
    [InlineData("std.objectKeysValues({b: 1, a: 2})", "[{\"key\":\"a\",\"value\":2},{\"key\":\"b\",\"value\":1}]")]
    [InlineData("std.objectKeysValuesAll({a:: 1})", "[{\"key\":\"a\",\"value\":1}]")]
    [InlineData("std.objectRemoveKey({a: 1, b: 2}, 'a')", "{\"b\":2}")]
    [InlineData("std.mapWithKey(function(k, v) k + v, {a: 'x', b: 'y'})", "{\"a\":\"ax\",\"b\":\"by\"}")]
    [InlineData("std.prune({a: null, b: [], c: {}, d: [null, 1, {}], e: {f: null}, g: 0})", "{\"d\":[1],\"g\":0}")]
    [InlineData("std.mergePatch({a: 1, b: {c: 2, d: 3}}, {a: null, b: {c: 9}, e: 5})", "{\"b\":{\"c\":9,\"d\":3},\"e\":5}")]
    [InlineData("std.mergePatch({a: 1}, 'x')", "\"x\"")]
    // math
    [InlineData("[std.abs(-2), std.sign(-3), std.sign(0), std.max(1, 2), std.min(1, 2), std.pow(2, 10)]", "[2,-1,0,2,1,1024]")]
    [InlineData("[std.floor(1.5), std.ceil(1.5), std.round(2.5), std.round(-2.5), std.sqrt(16)]", "[1,2,3,-2,4]")]
    [InlineData("[std.exp(0), std.log(1), std.sin(0), std.cos(0), std.tan(0), std.asin(0), std.acos(1), std.atan(0)]", "[1,0,0,1,0,0,0,0]")]
    [InlineData("[std.mantissa(8), std.exponent(8), std.mantissa(0), std.exponent(0)]", "[0.5,4,0,0]")]
    [InlineData("[std.log2(8), std.log10(100), std.atan2(0, 1), std.hypot(3, 4), std.deg2rad(0), std.rad2deg(0)]", "[3,2,0,5,0,0]")]
    [InlineData("[std.clamp(-1, 0, 5), std.clamp(9, 0, 5), std.clamp(3, 0, 5)]", "[0,5,3]")]
    [InlineData("[std.isEven(4), std.isOdd(3), std.isOdd(-3), std.isInteger(1), std.isDecimal(1.5)]", "[true,true,true,true,true]")]
    [InlineData("[std.mod(7, 3), std.mod('%d', 3), std.modulo(-7, 3)]", "[1,\"3\",-1]")]
    [InlineData("[std.xor(true, false), std.xnor(true, false)]", "[true,false]")]
    [InlineData("std.pi > 3.14159 && std.pi < 3.1416", "true")]
    // strings
    [InlineData("std.toString([1, 'a', {b: null}])", "\"[1, \\\"a\\\", {\\\"b\\\": null}]\"")]
    [InlineData("[std.codepoint('é'), std.char(233), std.char(128216)]", "[233,\"é\",\"📘\"]")]
    [InlineData("[std.substr('hello', 1, 3), std.substr('hé📘x', 2, 2), std.substr('ab', 5, 1)]", "[\"ell\",\"📘x\",\"\"]")]
    [InlineData("std.findSubstr('aa', 'aaaa')", "[0,1,2]")]
    [InlineData("[std.startsWith('abc', 'ab'), std.endsWith('abc', 'bc'), std.startsWith('a', 'ab')]", "[true,true,false]")]
    [InlineData("[std.stripChars('xxaxx', 'x'), std.lstripChars('xxa', 'x'), std.rstripChars('axx', 'x'), std.trim(' \\t a b \\n')]", "[\"a\",\"a\",\"a\",\"a b\"]")]
    [InlineData("[std.split('a,b,,c', ','), std.splitLimit('a,b,c', ',', 1), std.splitLimitR('a,b,c', ',', 1)]", "[[\"a\",\"b\",\"\",\"c\"],[\"a\",\"b,c\"],[\"a,b\",\"c\"]]")]
    [InlineData("std.strReplace('a-b-c', '-', '+')", "\"a+b+c\"")]
    [InlineData("[std.isEmpty(''), std.isEmpty('a'), std.equalsIgnoreCase('AbC', 'aBc')]", "[true,false,true]")]
    [InlineData("[std.asciiUpper('abcé'), std.asciiLower('ABCÉ')]", "[\"ABCé\",\"abcÉ\"]")]
    [InlineData("std.stringChars('a📘')", "[\"a\",\"📘\"]")]
    [InlineData("std.format('%s-%5d-%-4s|%x|%o|%e|%.2g', ['a', 42, 'b', 255, 8, 12345.678, 0.000123])", "\"a-   42-b   |ff|10|1.234568e+04|0.00012\"")]
    [InlineData("std.format('%*.*f|%.*f', [8, 2, 3.14159, -1, 2.5])", "\"    3.14|2.500000\"")]
    [InlineData("[std.escapeStringJson('a\"\\n'), std.escapeStringPython('x'), std.escapeStringBash(\"it's\"), std.escapeStringDollars('$x'), std.escapeStringXML('<a & \"b\">')]",
        "[\"\\\"a\\\\\\\"\\\\n\\\"\",\"\\\"x\\\"\",\"'it'\\\"'\\\"'s'\",\"$$x\",\"&lt;a &amp; &quot;b&quot;&gt;\"]")]
    [InlineData("[std.parseInt('-42'), std.parseOctal('17'), std.parseHex('fF')]", "[-42,15,255]")]
    [InlineData("std.parseJson('{\"a\": [1, 2.5, \"x\", null, true]}')", "{\"a\":[1,2.5,\"x\",null,true]}")]
    [InlineData("std.parseYaml('a: 1\\nb:\\n  - x\\n  - \"2\"\\nc: true\\nd: ~\\n')", "{\"a\":1,\"b\":[\"x\",\"2\"],\"c\":true,\"d\":null}")]
    [InlineData("[std.encodeUTF8('é'), std.decodeUTF8([104, 195, 169])]", "[[195,169],\"hé\"]")]
    // arrays
    [InlineData("std.makeArray(3, function(i) i * i)", "[0,1,4]")]
    [InlineData("[std.member([1, 2], 2), std.member('abc', 'b'), std.contains([1], 2)]", "[true,true,false]")]
    [InlineData("[std.count([1, 2, 1], 1), std.find(1, [1, 2, 1])]", "[2,[0,2]]")]
    [InlineData("[std.map(function(x) x + 1, [1, 2]), std.map(function(c) c + c, 'ab')]", "[[2,3],[\"aa\",\"bb\"]]")]
    [InlineData("std.mapWithIndex(function(i, x) i * x, [5, 6])", "[0,6]")]
    [InlineData("std.filterMap(function(x) x > 1, function(x) x * 10, [1, 2, 3])", "[20,30]")]
    [InlineData("[std.flatMap(function(x) [x, x], [1, 2]), std.flatMap(function(c) c + '.', 'ab')]", "[[1,1,2,2],\"a.b.\"]")]
    [InlineData("std.filter(function(x) x % 2 == 0, [1, 2, 3, 4])", "[2,4]")]
    [InlineData("[std.foldl(function(acc, x) acc + x, ['a', 'b'], '>'), std.foldr(function(x, acc) acc + x, ['a', 'b'], '>')]", "[\">ab\",\">ba\"]")]
    [InlineData("[std.range(1, 4), std.range(3, 1)]", "[[1,2,3,4],[]]")]
    [InlineData("[std.repeat('ab', 3), std.repeat([1], 2)]", "[\"ababab\",[1,1]]")]
    [InlineData("[std.slice([1, 2, 3, 4], 1, null, 2), std.slice('abcd', 0, 2, 1)]", "[[2,4],\"ab\"]")]
    [InlineData("[std.join(', ', ['a', null, 'b']), std.join([0], [[1], [2]])]", "[\"a, b\",[1,0,2]]")]
    [InlineData("std.lines(['a', 'b'])", "\"a\\nb\\n\"")]
    [InlineData("std.deepJoin(['a', ['b', ['c']]])", "\"abc\"")]
    [InlineData("[std.flattenArrays([[1], [2, [3]]]), std.flattenDeepArray([1, [2, [3, [4]]]])]", "[[1,2,[3]],[1,2,3,4]]")]
    [InlineData("std.reverse([1, 2, 3])", "[3,2,1]")]
    [InlineData("[std.sort([3, 1, 2]), std.sort(['b', 'a']), std.sort([{k: 2}, {k: 1}], function(o) o.k)]", "[[1,2,3],[\"a\",\"b\"],[{\"k\":1},{\"k\":2}]]")]
    [InlineData("std.sort([[2, 1], [1, 2], [1]])", "[[1],[1,2],[2,1]]")]
    [InlineData("std.uniq([1, 1, 2, 1])", "[1,2,1]")]
    [InlineData("[std.all([true, true]), std.any([false, true]), std.all([]), std.any([])]", "[true,true,true,false]")]
    [InlineData("[std.sum([1, 2, 3]), std.avg([1, 2, 3])]", "[6,2]")]
    [InlineData("[std.minArray([3, 1, 2]), std.maxArray(['a', 'c', 'b']), std.minArray([], onEmpty='none')]", "[1,\"c\",\"none\"]")]
    [InlineData("[std.remove([1, 2, 1], 1), std.removeAt([1, 2, 3], 1)]", "[[2,1],[1,3]]")]
    // sets
    [InlineData("std.set([3, 1, 2, 1])", "[1,2,3]")]
    [InlineData("[std.setInter([1, 2, 3], [2, 3, 4]), std.setUnion([1, 3], [2, 3]), std.setDiff([1, 2, 3], [2])]", "[[2,3],[1,2,3],[1,3]]")]
    [InlineData("[std.setMember(2, [1, 2, 3]), std.setMember(5, [1, 2, 3])]", "[true,false]")]
    [InlineData("std.set([{n: 'b'}, {n: 'a'}, {n: 'b'}], function(o) o.n)", "[{\"n\":\"a\"},{\"n\":\"b\"}]")]
    // encoding
    [InlineData("[std.base64('hello'), std.base64([1, 2, 3]), std.base64Decode('aGVsbG8='), std.base64DecodeBytes('AQID')]", "[\"aGVsbG8=\",\"AQID\",\"hello\",[1,2,3]]")]
    [InlineData("std.md5('')", "\"d41d8cd98f00b204e9800998ecf8427e\"")]
    [InlineData("std.sha1('abc')", "\"a9993e364706816aba3e25717850c26c9cd0d89d\"")]
    [InlineData("std.sha256('abc')", "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"")]
    [InlineData("std.sha512('')", "\"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e\"")]
    // equality and debugging
    [InlineData("[std.equals([1], [1]), std.primitiveEquals(1, 1), std.primitiveEquals(1, '1'), std.assertEqual(1, 1)]", "[true,true,false,true]")]
    [InlineData("std.trace('x', 5)", "5")]
    [InlineData("std.resolvePath('a/b.jsonnet', 'c.libsonnet')", "\"a/c.libsonnet\"")]
    public void Evaluates_to(string code, string expected) => Assert.Equal(expected, Eval.Min(code));

    [Fact]
    public void ManifestJsonEx_indents_with_the_given_string() =>
        Assert.Equal("\"{\\n  \\\"a\\\": [\\n    1\\n  ],\\n  \\\"b\\\": {\\n\\n  }\\n}\"", Eval.Min("std.manifestJsonEx({a: [1], b: {}}, '  ')"));

    [Fact]
    public void ManifestJson_and_minified() =>
        Assert.Equal("[\"{\\n    \\\"a\\\": 1\\n}\",\"{\\\"a\\\":[1,2]}\"]", Eval.Min("[std.manifestJson({a: 1}), std.manifestJsonMinified({a: [1, 2]})]"));

    [Fact]
    public void ManifestYamlDoc_writes_block_yaml() =>
        Assert.Equal(
            "a:\n- 1\n- x: \"y\"\n  z: []\nb: |\n  line1\n  line2\n\"c d\": null",
            Eval.Min("std.manifestYamlDoc({a: [1, {x: 'y', z: []}], b: 'line1\\nline2\\n', 'c d': null}, quote_keys=false)").Trim('"').Replace("\\n", "\n", StringComparison.Ordinal).Replace("\\\"", "\"", StringComparison.Ordinal));

    [Fact]
    public void ManifestYamlStream_separates_documents() =>
        Assert.Equal("\"---\\n1\\n---\\n\\\"a\\\"\\n...\\n\"", Eval.Min("std.manifestYamlStream([1, 'a'])"));

    [Fact]
    public void ManifestIni_writes_sections() =>
        Assert.Equal("\"a = 1\\n[s]\\nb = x\\nb = y\\n\"", Eval.Min("std.manifestIni({main: {a: 1}, sections: {s: {b: ['x', 'y']}}})"));

    [Fact]
    public void ManifestPython_and_vars() =>
        Assert.Equal("[\"{\\\"a\\\": [True, None, 1.5]}\",\"x = \\\"s\\\"\\n\"]", Eval.Min("[std.manifestPython({a: [true, null, 1.5]}), std.manifestPythonVars({x: 's'})]"));

    [Fact]
    public void ManifestXmlJsonml_writes_elements() =>
        Assert.Equal("\"<a href=\\\"x\\\"><b>t</b>u</a>\"", Eval.Min("std.manifestXmlJsonml(['a', {href: 'x'}, ['b', 't'], 'u'])"));

    [Fact]
    public void ManifestToml_writes_tables() =>
        Assert.Equal(
            "a = 1\narr = [\n  1,\n  \"x\"\n]\n\n[[list]]\n  c = 2\n\n[t]\n  b = true",
            Eval.Min("std.manifestToml({a: 1, arr: [1, 'x'], t: {b: true}, list: [{c: 2}]})").Trim('"').Replace("\\n", "\n", StringComparison.Ordinal).Replace("\\\"", "\"", StringComparison.Ordinal));

    [Fact]
    public void AssertEqual_reports_both_values() =>
        Assert.Equal("Assertion failed. \"a\" != {\"b\": 1}", Eval.Error("std.assertEqual('a', {b: 1})").Message);

    [Theory]
    [InlineData("std.codepoint(1)", "Builtin function codepoint expected (string) but got (number)")]
    [InlineData("std.makeArray(-1, function(i) i)", "makeArray requires size >= 0, got -1")]
    [InlineData("std.maxArray([])", "Expected at least one element in array. Got none")]
    [InlineData("std.join(',', ['a', 1])", "expected string but arr[1] was number")]
    [InlineData("std.parseInt('x1')", "parseInt: \"x1\" is not a base 10 integer.")]
    [InlineData("std.decodeUTF8([300])", "Element 0 of the provided array was not an integer in range [0,255]")]
    public void Type_errors_are_clear(string code, string message) => Assert.Equal(message, Eval.Error(code).Message);

    [Fact]
    public void Std_fields_are_hidden() => Assert.Equal("{}", Eval.Min("std"));

    [Fact]
    public void Std_functions_are_lazy_where_the_reference_is() =>
        Assert.Equal("2", Eval.Min("std.length(std.map(function(x) error 'not forced', [1, 2]))"));
}
