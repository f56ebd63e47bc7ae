using System.Text.Json.Nodes;
using Gatehouse.Schemas;
using Gatehouse.Tests.Schemas;
using Gatehouse.Text;

namespace Gatehouse.Tests.Text;

/// <summary>
/// A traits error as the UI message Kratos shows (<c>ui/container/container.go</c> <c>translateValidationError</c> and the
/// <c>text/message_validation.go</c> constructors): the id, the text and the context, whose keys and JSON types Ory
/// Elements reads to word the message (<c>{allowed_types_list}</c> from an array, <c>{reason}</c> on 4000001).
/// </summary>
public sealed class TraitsErrorMessageTests
{
    private static readonly IdentitySchema Schema = TestSchemas.Create("""
        {
          "$id": "https://example.com/keywords.schema.json",
          "$schema": "http://json-schema.org/draft-07/schema#",
          "type": "object",
          "properties": {
            "traits": {
              "type": "object",
              "properties": {
                "email": { "type": "string", "format": "email" },
                "name": { "type": "string", "pattern": "^[a-z]+$" },
                "nick": { "type": ["string", "null"] },
                "age": { "type": "integer", "minimum": 18, "exclusiveMaximum": 150.5 },
                "step": { "type": "number", "multipleOf": 0.5 },
                "plan": { "const": "free" },
                "prefs": { "const": { "theme": "dark" } },
                "color": { "enum": ["red", "blue"] },
                "tags": { "type": "array", "maxItems": 1 }
              }
            }
          }
        }
        """);

    private static JsonObject MessageFor(string traits, string pointer)
    {
        var result = Schema.Validate(JsonNode.Parse(traits));
        var error = Assert.Single(result.Errors, e => e.InstancePointer == pointer);
        return Messages.FromTraitsError(error);
    }

    private static void AssertMessage(JsonObject message, long id, string text, string? context)
    {
        Assert.Equal(id, message["id"]!.GetValue<long>());
        Assert.Equal("error", message["type"]!.GetValue<string>());
        Assert.Equal(text, message["text"]!.GetValue<string>());
        if (context is null) Assert.Null(message["context"]);
        else Assert.True(JsonNode.DeepEquals(JsonNode.Parse(context), message["context"]), $"context {message["context"]?.ToJsonString()}, wanted {context}");
    }

    [Fact]
    public void A_wrong_type_lists_the_allowed_types_as_an_array()
    {
        AssertMessage(MessageFor("""{"nick":7}""", "#/traits/nick"), 4000026, "expected string or null, but got number",
            """{"allowed_types":["string","null"],"actual_type":"number"}""");
        AssertMessage(MessageFor("""{"age":"old"}""", "#/traits/age"), 4000026, "expected integer, but got string",
            """{"allowed_types":["integer"],"actual_type":"string"}""");
    }

    [Fact]
    public void Numeric_limits_are_numbers_in_the_context()
    {
        AssertMessage(MessageFor("""{"age":17}""", "#/traits/age"), 4000018, "must be >= 18 but found 17", """{"minimum":18,"actual":17}""");
        AssertMessage(MessageFor("""{"age":151}""", "#/traits/age"), 4000021, "must be < 150.5 but found 151", """{"maximum":150.5,"actual":151}""");
        AssertMessage(MessageFor("""{"step":0.3}""", "#/traits/step"), 4000022, "0.3 not multipleOf 0.5", """{"base":0.5,"actual":0.3}""");
        AssertMessage(MessageFor("""{"tags":["a","b"]}""", "#/traits/tags"), 4000023, "maximum 1 items allowed, but found 2 items", """{"max_items":1,"actual_items":2}""");
    }

    [Fact]
    public void A_constant_is_named_as_expected_unless_it_is_an_object_or_array()
    {
        AssertMessage(MessageFor("""{"plan":"pro"}""", "#/traits/plan"), 4000029, "must be equal to constant \"free\"", """{"expected":"\"free\""}""");
        AssertMessage(MessageFor("""{"prefs":{"theme":"light"}}""", "#/traits/prefs"), 4000030, "const failed", null);
    }

    [Fact]
    public void Pattern_and_email_carry_the_pattern_and_the_value()
    {
        AssertMessage(MessageFor("""{"name":"Jane"}""", "#/traits/name"), 4000004, "does not match pattern \"^[a-z]+$\"", """{"pattern":"^[a-z]+$"}""");
        AssertMessage(MessageFor("""{"email":"foo"}""", "#/traits/email"), 4000040, "Enter a valid email address", """{"value":"foo"}""");
    }

    [Fact]
    public void Any_other_keyword_is_the_generic_message_with_its_text_as_reason()
    {
        var message = MessageFor("""{"color":"green"}""", "#/traits/color");
        Assert.Equal(4000001, message["id"]!.GetValue<long>());
        var text = message["text"]!.GetValue<string>();
        Assert.StartsWith("value must be one of", text);
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["reason"] = text }, message["context"]));
    }
}
