using System.Text;
using Gatehouse.Schemas;

namespace Gatehouse.Tests.Schemas;

/// <summary>Hand-written identity schemas shared by the schema tests.</summary>
internal static class TestSchemas
{
    public const string Rich = """
        {
          "$schema": "http://json-schema.org/draft-07/schema#",
          "type": "object",
          "properties": {
            "traits": {
              "type": "object",
              "additionalProperties": false,
              "required": ["email", "username"],
              "properties": {
                "email": {
                  "type": "string", "format": "email", "title": "E-Mail",
                  "ory.sh/kratos": {
                    "credentials": {
                      "password": { "identifier": true },
                      "webauthn": { "identifier": true },
                      "code": { "identifier": true, "via": "email" },
                      "totp": { "account_name": true },
                      "passkey": { "display_name": true }
                    },
                    "verification": { "via": "email" },
                    "recovery": { "via": "email" }
                  }
                },
                "username": {
                  "type": "string", "minLength": 3, "maxLength": 12, "title": "Username",
                  "ory.sh/kratos": { "credentials": { "password": { "identifier": true } } }
                },
                "phone": {
                  "type": "string", "format": "tel",
                  "ory.sh/kratos": {
                    "credentials": { "code": { "identifier": true, "via": "sms" } },
                    "verification": { "via": "sms" },
                    "recovery": { "via": "sms" }
                  }
                },
                "backup_emails": {
                  "type": "array",
                  "items": { "type": "string", "format": "email" },
                  "ory.sh/kratos": {
                    "credentials": { "password": { "identifier": true } },
                    "verification": { "via": "email" }
                  }
                },
                "name": {
                  "type": "object",
                  "required": ["last"],
                  "properties": {
                    "first": { "type": "string", "title": "First name" },
                    "last": { "type": "string", "title": "Last name" }
                  }
                },
                "age": { "type": "integer", "minimum": 18 },
                "newsletter": { "type": "boolean" }
              }
            }
          }
        }
        """;

    public static IdentitySchema Create(string json, string id = "test") =>
        IdentitySchema.Create(id, Base64Url(json), json);

    public static string Base64Url(string json) => "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(json));

    /// <summary>A minimal valid identity schema whose traits have one property with the given schema.</summary>
    public static string WithTrait(string name, string propertySchema, string extra = "") => $$"""
        {
          "type": "object",
          "properties": {
            "traits": {
              "type": "object",
              {{extra}}
              "properties": { "{{name}}": {{propertySchema}} }
            }
          }
        }
        """;
}
