namespace Gatehouse.Jsonnet.Tests;

public sealed class ErrorTests
{
    [Fact]
    public void Runtime_errors_carry_location_and_a_reference_style_stack_trace()
    {
        var e = Eval.Error("local bananas = function(x) error 'foo';\nlocal apples = function(z) bananas(0);\napples(2)");
        Assert.Equal(JsonnetErrorKind.Runtime, e.Kind);
        Assert.Equal(
            "RUNTIME ERROR: foo\n" +
            "\ttest.jsonnet:1:29-40\tfunction <bananas>\n" +
            "\ttest.jsonnet:2:28-38\tfunction <apples>\n" +
            "\ttest.jsonnet:3:1-10\t",
            e.Formatted);
        Assert.Equal(1, e.Location!.Value.Line);
        Assert.Equal(29, e.Location.Value.Column);
    }

    [Theory]
    [InlineData("[1, 2 3]", "STATIC ERROR: test.jsonnet:1:7: expected a comma before next array element.")]
    [InlineData("local x = 1; y", "STATIC ERROR: test.jsonnet:1:14: Unknown variable: y")]
    [InlineData("[self]", "STATIC ERROR: test.jsonnet:1:2-6: Can't use self outside of an object.")]
    [InlineData("'abc", "STATIC ERROR: test.jsonnet:1:1: unterminated string")]
    [InlineData("function(x, x) 1", "STATIC ERROR: test.jsonnet:1:1-17: Duplicate function parameter: x")]
    [InlineData("{a: 1, a: 2}", "STATIC ERROR: test.jsonnet:1:8-12: Duplicate field: a")]
    [InlineData("import 'a' + 'b'", "STATIC ERROR: test.jsonnet:1:8-17: computed imports are not allowed.")]
    public void Static_errors_are_reported_before_evaluation(string code, string expected)
    {
        var e = Eval.Error(code);
        Assert.Equal(JsonnetErrorKind.Static, e.Kind);
        Assert.Equal(expected, e.Formatted);
    }

    [Theory]
    [InlineData("1 / 0", "division by zero.")]
    [InlineData("{a: 1}.b", "field does not exist: b")]
    [InlineData("[1, 2][2]", "array bounds error: 2 not within [0, 2)")]
    [InlineData("[1][0.5]", "array index was not integer: 0.5")]
    [InlineData("1e308 * 10", "overflow")]
    [InlineData("local f(a) = a; f(1, 2)", "too many args, function has 1 parameter(s)")]
    [InlineData("local f(a) = a; f()", "function parameter a not bound in call.")]
    [InlineData("local f(a) = a; f(1, a=2)", "binding parameter a second time: a")]
    [InlineData("local f(a) = a; f(b=2)", "function has no parameter b")]
    [InlineData("(function() 1) == (function() 1)", "cannot test equality of functions")]
    [InlineData("1 + 'a' - 1", "Binary operator - requires numbers, got string and number.")]
    [InlineData("if 1 then 2", "Condition must be boolean, got number.")]
    [InlineData("std.extVar('nope')", "Undefined external variable: nope")]
    [InlineData("1 << -1", "shift by negative exponent.")]
    [InlineData("9007199254740992 | 1", "numeric value outside safe integer range for bitwise operation.")]
    [InlineData("[x for x in {}]", "In comprehension, can only iterate over array.")]
    [InlineData("{[1]: 2}", "Field name must be string, got number.")]
    [InlineData("'%d' % ['x']", "Format required number at d, got string")]
    [InlineData("'%d %d' % [1]", "Not enough values to format: 1, expected more than 1")]
    [InlineData("import 'x.libsonnet'", "couldn't open import \"x.libsonnet\": no match locally or in the Jsonnet library paths.")]
    public void Runtime_errors_have_the_reference_messages(string code, string message) =>
        Assert.Equal(message, Eval.Error(code).Message);

    [Fact]
    public void Errors_during_manifestation_are_attributed_to_the_field()
    {
        var e = Eval.Error("{a: {b: error 'deep'}}");
        Assert.Equal("deep", e.Message);
        Assert.Contains("During manifestation", e.Formatted, StringComparison.Ordinal);
    }

    [Fact]
    public void Long_stack_traces_are_elided_in_the_middle()
    {
        var e = Eval.Error("local f(n) = if n == 0 then error 'bottom' else f(n - 1); f(100)");
        Assert.Equal("bottom", e.Message);
        Assert.Contains("\t...", e.Formatted, StringComparison.Ordinal);
        Assert.True(e.JsonnetStackTrace.Count <= 21);
    }

    [Fact]
    public void Errors_raised_by_the_standard_library_point_at_the_call()
    {
        var e = Eval.Error("local x = 1;\n  std.assertEqual(x, 2)");
        Assert.Equal("Assertion failed. 1 != 2", e.Message);
        Assert.Equal(2, e.Location!.Value.Line);
        Assert.Equal(3, e.Location.Value.Column);
        Assert.Equal("test.jsonnet", e.Location.Value.File);
    }
}
