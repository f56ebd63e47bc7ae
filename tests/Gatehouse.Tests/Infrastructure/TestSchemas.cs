using System.Text;
using Gatehouse.Config;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>Identity schemas the tests configure (as base64:// URLs, so no files are needed).</summary>
public static class TestSchemas
{
    public const string Default = """
    {
      "$id": "https://gatehouse.test/default.schema.json",
      "$schema": "http://json-schema.org/draft-07/schema#",
      "title": "Person",
      "type": "object",
      "properties": {
        "traits": {
          "type": "object",
          "properties": {
            "email": {
              "type": "string",
              "format": "email",
              "title": "E-Mail",
              "minLength": 3,
              "ory.sh/kratos": {
                "credentials": { "password": { "identifier": true } },
                "verification": { "via": "email" },
                "recovery": { "via": "email" }
              }
            },
            "name": {
              "type": "object",
              "properties": {
                "first": { "type": "string", "title": "First name" },
                "last": { "type": "string", "title": "Last name" }
              }
            }
          },
          "required": ["email"],
          "additionalProperties": false
        }
      }
    }
    """;

    /// <summary>A second schema: a username identifier and an optional, non-identifying email.</summary>
    public const string Customer = """
    {
      "$schema": "http://json-schema.org/draft-07/schema#",
      "type": "object",
      "properties": {
        "traits": {
          "type": "object",
          "properties": {
            "username": {
              "type": "string",
              "minLength": 2,
              "ory.sh/kratos": { "credentials": { "password": { "identifier": true } } }
            },
            "email": { "type": "string", "format": "email" }
          },
          "required": ["username"]
        }
      }
    }
    """;

    public static IEnumerable<IdentitySchemaEntry> All =>
    [
        new() { Id = "default", Url = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(Default)) },
        new() { Id = "customer", Url = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(Customer)) },
    ];
}
