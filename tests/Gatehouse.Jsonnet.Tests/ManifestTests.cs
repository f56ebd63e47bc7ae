namespace Gatehouse.Jsonnet.Tests;

/// <summary>The output must be byte-for-byte what the reference CLI prints.</summary>
public sealed class ManifestTests
{
    [Fact]
    public void Objects_and_arrays_are_indented_with_three_spaces()
    {
        var expected = "{\n   \"a\": [\n      1,\n      {\n         \"b\": null\n      }\n   ],\n   \"c\": \"d\"\n}";
        Assert.Equal(expected, Eval.Pretty("{c: 'd', a: [1, {b: null}]}"));
    }

    [Fact]
    public void Empty_containers_have_a_space_inside() =>
        Assert.Equal("{\n   \"a\": [ ],\n   \"b\": { }\n}", Eval.Pretty("{a: [], b: {}}"));

    [Theory]
    [InlineData("1", "1")]
    [InlineData("-0.5", "-0.5")]
    [InlineData("1e100", "10000000000000000159028911097599180468360808563945281389781327557747838772170381060813469985856815104")]
    [InlineData("123456789012", "123456789012")]
    [InlineData("0.1", "0.10000000000000001")]
    [InlineData("1e-14", "1e-14")]
    [InlineData("2.5e-7", "2.4999999999999999e-07")]
    [InlineData("1e20 / 3", "33333333333333331968")]
    public void Numbers_are_formatted_like_the_reference(string code, string expected) => Assert.Equal(expected, Eval.Pretty(code));

    [Fact]
    public void Strings_escape_control_characters_and_keep_unicode() =>
        Assert.Equal("\"q\\\" b\\\\ \\n\\t\\u0001\\u007f é 📘\"", Eval.Pretty("'q\" b\\\\ \\n\\t\\u0001\\u007f é 📘'"));

    [Fact]
    public void Fields_are_sorted_by_code_point() =>
        Assert.Equal("{\"B\":1,\"a\":2,\"é\":3}", Eval.Min("{'é': 3, a: 2, B: 1}"));

    [Fact]
    public void Functions_cannot_be_manifested() =>
        Assert.Contains("function", Eval.Error("{f: function() 1}").Message);
}
