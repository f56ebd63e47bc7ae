using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.SelfService;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// Kratos's self-service decoder reads a JSON body as a form (<c>decoderx.HTTPDecoderJSONFollowsFormFormat</c> →
/// <c>decodeJSONForm</c>): every member becomes gjson's text of it before the method's schema types it.
/// </summary>
public sealed class FormBodyTests
{
    private static async Task<JsonObject> Read(string json)
    {
        var http = new DefaultHttpContext();
        http.Request.Method = "POST";
        http.Request.ContentType = "application/json";
        http.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(json));
        return await FormBody.ReadAsync(http.Request, CancellationToken.None);
    }

    [Theory]
    [InlineData("123456", "123456")]
    [InlineData("-42", "-42")]
    [InlineData("1.5", "1.5")]
    [InlineData("1.50", "1.5")]
    [InlineData("1e3", "1000")]
    [InlineData("1E+21", "1000000000000000000000")]
    [InlineData("1.5e-7", "0.00000015")]
    [InlineData("-2.5E2", "-250")]
    [InlineData("1e400", "+Inf")]
    public void Numbers_are_gjson_text(string literal, string text) => Assert.Equal(text, FormBody.GoNumberText(literal));

    [Fact]
    public async Task Members_become_their_text_and_dotted_keys_nest()
    {
        var body = await Read("""{"a":123456,"b":true,"c":false,"d":null,"e":"","f":["x",1],"traits.name.first":"Ada","traits.age":36,"transient_payload":{"k":1},"g":{"x":[1]}}""");
        Assert.Equal("123456", FormBody.String(body, "a"));
        Assert.Equal("true", FormBody.String(body, "b"));
        Assert.True(FormBody.Bool(body, "b"));
        Assert.Equal("false", FormBody.String(body, "c"));
        Assert.False(FormBody.Bool(body, "c"));
        Assert.False(body.ContainsKey("d"));
        Assert.Equal("", FormBody.String(body, "e"));
        Assert.Equal("""["x",1]""", FormBody.String(body, "f"));
        Assert.Equal("Ada", (string?)body["traits"]!["name"]!["first"]);
        Assert.Equal("36", (string?)body["traits"]!["age"]);
        // Objects stay objects for object fields, and are their JSON text where a string is read.
        Assert.Equal(1, (int)body["transient_payload"]!["k"]!);
        Assert.Equal("""{"x":[1]}""", FormBody.String(body, "g"));
        Assert.False(FormBody.IsForm(body));
    }

    [Fact]
    public async Task Booleans_take_parse_bool_spellings_and_refuse_the_rest()
    {
        string[] buttons = ["confirm"];
        foreach (var value in new[] { "true", "\"1\"", "\"t\"", "\"TRUE\"", "1" })
        {
            var body = await Read($$"""{"confirm":{{value}}}""");
            Assert.True(FormBody.Bool(body, "confirm"), value);
            Assert.Null(FormBody.UndecodableBoolean(body, "S", buttons));
        }
        foreach (var value in new[] { "false", "\"0\"", "\"\"", "null" })
        {
            var body = await Read($$"""{"confirm":{{value}}}""");
            Assert.False(FormBody.Bool(body, "confirm"), value);
            Assert.Null(FormBody.UndecodableBoolean(body, "S", buttons));
        }
        foreach (var value in new[] { "5", "\"yes\"", "{}", "[true]" })
        {
            var body = await Read($$"""{"other":"x","confirm":{{value}}}""");
            Assert.False(FormBody.Bool(body, "confirm"), value);
            Assert.Equal("json: cannot unmarshal string into Go struct field S.confirm of type bool", FormBody.UndecodableBoolean(body, "S", buttons));
            // From JSON, Kratos's decoder returns Go's error unwrapped: an error answer, not a flow message.
            var error = Assert.Throws<GatehouseError>(() => FormBody.BooleanDecodeFailure(body, "S", buttons));
            Assert.Equal(400, error.Code);
            Assert.Equal("json: cannot unmarshal string into Go struct field S.confirm of type bool", error.Message);
        }
    }
}
