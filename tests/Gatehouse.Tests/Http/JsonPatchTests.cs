using System.Text.Json.Nodes;
using Gatehouse.Http.Json;

namespace Gatehouse.Tests.Http;

public sealed class JsonPatchTests
{
    private static string Apply(string doc, string patch, Func<string, bool>? denied = null) =>
        JsonPatch.Apply(JsonNode.Parse(doc)!, JsonNode.Parse(patch), denied).ToJsonString();

    [Fact]
    public void Add_sets_object_members_and_inserts_or_appends_array_items()
    {
        Assert.Equal("""{"a":1,"b":2}""", Apply("""{"a":1}""", """[{"op":"add","path":"/b","value":2}]"""));
        Assert.Equal("""{"l":[0,1,2]}""", Apply("""{"l":[0,2]}""", """[{"op":"add","path":"/l/1","value":1}]"""));
        Assert.Equal("""{"l":[0,1]}""", Apply("""{"l":[0]}""", """[{"op":"add","path":"/l/-","value":1}]"""));
    }

    [Fact]
    public void Remove_and_replace_of_an_array_item_need_an_existing_target()
    {
        Assert.Equal("""{"a":3}""", Apply("""{"a":1}""", """[{"op":"replace","path":"/a","value":3}]"""));
        Assert.Equal("""{}""", Apply("""{"a":1}""", """[{"op":"remove","path":"/a"}]"""));
        Assert.Throws<JsonPatchException>(() => Apply("""{"l":[1]}""", """[{"op":"replace","path":"/l/5","value":3}]"""));
        Assert.Throws<JsonPatchException>(() => Apply("""{"a":1}""", """[{"op":"remove","path":"/b"}]"""));
        Assert.Throws<JsonPatchException>(() => Apply("""{"l":[1]}""", """[{"op":"remove","path":"/l/5"}]"""));
    }

    [Fact]
    public void Replace_of_a_missing_object_member_adds_it_as_Kratos_does()
    {
        Assert.Equal("""{"a":1,"b":3}""", Apply("""{"a":1}""", """[{"op":"replace","path":"/b","value":3}]"""));
        Assert.Equal("""{"m":{"plan":"pro"}}""", Apply("""{"m":null}""", """[{"op":"replace","path":"/m/plan","value":"pro"}]"""));
    }

    [Fact]
    public void Add_creates_missing_or_null_parents_as_Kratos_does()
    {
        Assert.Equal("""{"m":{"a":{"b":1}}}""", Apply("""{"m":null}""", """[{"op":"add","path":"/m/a/b","value":1}]"""));
        Assert.Equal("""{"x":1,"l":[{"k":2}]}""", Apply("""{"x":1}""", """[{"op":"add","path":"/l/-/k","value":2}]"""));
        Assert.Equal("""{"x":1,"l":["v"]}""", Apply("""{"x":1}""", """[{"op":"add","path":"/l/0","value":"v"}]"""));
        Assert.Throws<JsonPatchException>(() => Apply("""{"s":"text"}""", """[{"op":"add","path":"/s/k","value":1}]"""));
    }

    [Fact]
    public void Escaped_pointer_tokens_are_decoded()
    {
        Assert.Equal("""{"a/b":1,"c~d":2}""", Apply("""{}""", """[{"op":"add","path":"/a~1b","value":1},{"op":"add","path":"/c~0d","value":2}]"""));
    }

    [Theory]
    [InlineData("""[{"op":"move","from":"/a","path":"/b"}]""")]
    [InlineData("""[{"op":"copy","from":"/a","path":"/b"}]""")]
    [InlineData("""[{"op":"test","path":"/a","value":1}]""")]
    [InlineData("""[{"path":"/a","value":1}]""")]
    [InlineData("""[{"op":"add","value":1}]""")]
    [InlineData("""[{"op":"add","path":"/b"}]""")]
    [InlineData("""[{"op":"add","path":"","value":{}}]""")]
    [InlineData("""[{"op":"add","path":"a","value":1}]""")]
    [InlineData("""{"op":"add","path":"/a","value":1}""")]
    [InlineData("""[1]""")]
    public void Unsupported_or_malformed_operations_are_rejected(string patch) =>
        Assert.Throws<JsonPatchException>(() => Apply("""{"a":1}""", patch));

    [Fact]
    public void Denied_paths_are_rejected_and_the_document_is_untouched()
    {
        var doc = JsonNode.Parse("""{"id":"x","a":1}""")!;
        Assert.Throws<JsonPatchException>(() => JsonPatch.Apply(doc, JsonNode.Parse("""[{"op":"replace","path":"/a","value":2},{"op":"replace","path":"/id","value":"y"}]"""), p => p == "/id"));
        Assert.Equal("""{"id":"x","a":1}""", doc.ToJsonString());
    }
}
