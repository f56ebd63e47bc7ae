using System.Text.Json.Nodes;
using Gatehouse.Schemas;

namespace Gatehouse.Tests.Schemas;

public sealed class TraitsValidationTests
{
    private static readonly IdentitySchema Rich = TestSchemas.Create(TestSchemas.Rich);

    private static TraitsValidationResult Validate(string traits) => Rich.Validate(JsonNode.Parse(traits));

    private static TraitsError SingleError(TraitsValidationResult result)
    {
        Assert.False(result.IsValid);
        return Assert.Single(result.Errors);
    }

    [Fact]
    public void Valid_traits_pass_with_no_errors()
    {
        var result = Validate("""{"email":"jane@example.org","username":"jane","name":{"last":"Doe"},"age":30,"newsletter":true}""");

        Assert.True(result.IsValid);
        Assert.Empty(result.Errors);
    }

    [Fact]
    public void An_invalid_email_fails_the_asserted_email_format()
    {
        var error = SingleError(Validate("""{"email":"foo","username":"jane"}"""));

        Assert.Equal(new TraitsError("#/traits/email", "\"foo\" is not valid \"email\"", "format"), error with { Context = TraitsError.EmptyContext });
        Assert.Equal("email", error.Context["format"]);
    }

    [Theory]
    [InlineData("jane@example.org")]
    [InlineData("jane@localhost")]
    [InlineData("x@y.z")]
    [InlineData("first.last+tag@sub.example.co.uk")]
    [InlineData("\"quoted local\"@example.org")]
    [InlineData("jane@[127.0.0.1]")]
    [InlineData("jane@[IPv6:::1]")]
    public void Addresses_the_kratos_email_format_accepts_are_valid(string email)
    {
        var result = Validate($$"""{"email":{{TraitsErrorMapper.Quote(email)}},"username":"jane"}""");

        Assert.True(result.IsValid, string.Join("; ", result.Errors.Select(e => e.Message)));
    }

    [Theory]
    [InlineData("jane")]
    [InlineData("@example.org")]
    [InlineData("jane@")]
    [InlineData("jane.@example.org")]
    [InlineData(".jane@example.org")]
    [InlineData("ja..ne@example.org")]
    [InlineData("Jane <jane@example.org>")]
    [InlineData(" jane@example.org")]
    [InlineData("jane@-example.org")]
    [InlineData("jane@exa_mple.org")]
    public void Addresses_the_kratos_email_format_rejects_are_invalid(string email)
    {
        var error = SingleError(Validate($$"""{"email":{{TraitsErrorMapper.Quote(email)}},"username":"jane"}"""));

        Assert.Equal("format", error.Keyword);
        Assert.Equal("#/traits/email", error.InstancePointer);
    }

    [Fact]
    public void A_missing_required_trait_is_reported_at_its_own_pointer()
    {
        var result = Validate("""{"username":"jane"}""");

        var error = SingleError(result);
        Assert.Equal("#/traits/email", error.InstancePointer);
        Assert.Equal("missing properties: \"email\"", error.Message);
        Assert.Equal("required", error.Keyword);
        Assert.Equal("email", error.Context["property"]);
    }

    [Fact]
    public void Each_missing_required_trait_gets_an_error()
    {
        var result = Validate("{}");

        Assert.Equal(["#/traits/email", "#/traits/username"], result.Errors.Select(e => e.InstancePointer));
        Assert.All(result.Errors, e => Assert.Equal("required", e.Keyword));
    }

    [Fact]
    public void Missing_required_traits_in_a_nested_object_point_into_it()
    {
        var error = SingleError(Validate("""{"email":"jane@example.org","username":"jane","name":{"first":"Jane"}}"""));

        Assert.Equal("#/traits/name/last", error.InstancePointer);
        Assert.Equal("missing properties: \"last\"", error.Message);
    }

    [Fact]
    public void A_nested_value_of_the_wrong_type_is_reported_at_its_path()
    {
        var error = SingleError(Validate("""{"email":"jane@example.org","username":"jane","name":{"first":7,"last":"Doe"}}"""));

        Assert.Equal(new TraitsError("#/traits/name/first", "expected string, but got number", "type"), error with { Context = TraitsError.EmptyContext });
        Assert.Equal("string", error.Context["expected_type"]);
        Assert.Equal("number", error.Context["actual_type"]);
    }

    [Fact]
    public void A_number_for_an_integer_trait_is_the_wrong_type()
    {
        var result = Validate("""{"email":"jane@example.org","username":"jane","age":30.5}""");

        Assert.Contains(result.Errors, e => e is { InstancePointer: "#/traits/age", Keyword: "type", Message: "expected integer, but got number" });
    }

    [Fact]
    public void A_value_below_the_minimum_uses_the_kratos_wording()
    {
        var error = SingleError(Validate("""{"email":"jane@example.org","username":"jane","age":17}"""));

        Assert.Equal(("#/traits/age", "must be >= 18 but found 17", "minimum"), (error.InstancePointer, error.Message, error.Keyword));
    }

    [Fact]
    public void Unknown_traits_are_rejected_by_additional_properties_false_in_one_error()
    {
        var error = SingleError(Validate("""{"email":"jane@example.org","username":"jane","nick":"j","pet":"cat"}"""));

        Assert.Equal("#/traits", error.InstancePointer);
        Assert.Equal("additionalProperties \"nick\", \"pet\" not allowed", error.Message);
        Assert.Equal("additionalProperties", error.Keyword);
    }

    [Theory]
    [InlineData("ja", "minLength", "length must be >= 3, but got 2")]
    [InlineData("jane-the-great", "maxLength", "length must be <= 12, but got 14")]
    public void String_lengths_outside_the_limits_are_reported(string username, string keyword, string message)
    {
        var error = SingleError(Validate($$"""{"email":"jane@example.org","username":"{{username}}"}"""));

        Assert.Equal(("#/traits/username", message, keyword), (error.InstancePointer, error.Message, error.Keyword));
        Assert.Equal(username.Length, error.Context["actual_length"]);
    }

    [Fact]
    public void String_length_counts_characters_not_utf16_units()
    {
        Assert.True(Validate("""{"email":"jane@example.org","username":"😀😀😀"}""").IsValid);
        Assert.Equal("length must be >= 3, but got 2", SingleError(Validate("""{"email":"jane@example.org","username":"😀😀"}""")).Message);
    }

    [Fact]
    public void Errors_in_array_items_point_at_the_item()
    {
        var error = SingleError(Validate("""{"email":"jane@example.org","username":"jane","backup_emails":["a@example.org","nope"]}"""));

        Assert.Equal(("#/traits/backup_emails/1", "\"nope\" is not valid \"email\"", "format"), (error.InstancePointer, error.Message, error.Keyword));
    }

    [Theory]
    [InlineData("\"jane\"", "string")]
    [InlineData("[]", "array")]
    [InlineData("5", "number")]
    [InlineData("true", "boolean")]
    public void Traits_that_are_not_an_object_are_rejected(string traits, string kind)
    {
        var error = SingleError(Validate(traits));

        Assert.Equal(("#/traits", $"expected object, but got {kind}", "type"), (error.InstancePointer, error.Message, error.Keyword));
    }

    [Fact]
    public void Null_traits_are_validated_as_an_empty_object()
    {
        var missingTraits = Rich.Validate(null);
        var jsonNull = Rich.Validate(JsonNode.Parse("null"));

        Assert.Equal(["#/traits/email", "#/traits/username"], missingTraits.Errors.Select(e => e.InstancePointer));
        Assert.Equal(missingTraits.Errors.Select(e => e.Message), jsonNull.Errors.Select(e => e.Message));

        var optional = TestSchemas.Create(TestSchemas.WithTrait("nick", """{"type":"string"}"""));
        Assert.True(optional.Validate(null).IsValid);
    }

    [Fact]
    public void A_schema_whose_top_level_is_not_typed_as_object_still_validates_traits()
    {
        var schema = TestSchemas.Create("""
            {"properties":{"traits":{"properties":{"age":{"type":"integer","maximum":120,"exclusiveMinimum":0}}}}}
            """);

        Assert.True(schema.Validate(JsonNode.Parse("""{"age":42}""")).IsValid);
        Assert.Equal("must be <= 120 but found 121", SingleError(schema.Validate(JsonNode.Parse("""{"age":121}"""))).Message);
        Assert.Equal("must be > 0 but found 0", SingleError(schema.Validate(JsonNode.Parse("""{"age":0}"""))).Message);
    }

    [Theory]
    [InlineData("""{"type":"string","pattern":"^[a-z]+$"}""", "\"Jane\"", "pattern", "does not match pattern \"^[a-z]+$\"")]
    [InlineData("""{"type":"string","enum":["a","b"]}""", "\"c\"", "enum", "value must be one of \"a\", \"b\"")]
    [InlineData("""{"const":"x"}""", "\"y\"", "const", "must be equal to constant \"x\"")]
    [InlineData("""{"type":"number","multipleOf":5}""", "7", "multipleOf", "7 not multipleOf 5")]
    [InlineData("""{"type":"array","minItems":2}""", "[1]", "minItems", "minimum 2 items allowed, but found 1 items")]
    [InlineData("""{"type":"array","maxItems":1}""", "[1,2]", "maxItems", "maximum 1 items allowed, but found 2 items")]
    [InlineData("""{"type":"array","uniqueItems":true}""", "[1,2,1]", "uniqueItems", "items at index 0 and 2 are equal")]
    [InlineData("""{"type":["string","null"]}""", "1", "type", "expected string or null, but got number")]
    public void Other_keywords_use_the_kratos_wording(string property, string value, string keyword, string message)
    {
        var schema = TestSchemas.Create(TestSchemas.WithTrait("field", property));

        var error = SingleError(schema.Validate(JsonNode.Parse($$"""{"field":{{value}}}""")));

        Assert.Equal(("#/traits/field", message, keyword), (error.InstancePointer, error.Message, error.Keyword));
    }

    [Fact]
    public void Tel_format_accepts_international_numbers_only()
    {
        var schema = TestSchemas.Create(TestSchemas.WithTrait("phone", """{"type":"string","format":"tel"}"""));

        Assert.True(schema.Validate(JsonNode.Parse("""{"phone":"+49 176 67111638"}""")).IsValid);
        var error = SingleError(schema.Validate(JsonNode.Parse("""{"phone":"0176 67111638"}""")));
        Assert.Equal("\"0176 67111638\" is not valid \"tel\"", error.Message);
    }

    [Fact]
    public void The_no_validate_format_accepts_anything()
    {
        var schema = TestSchemas.Create(TestSchemas.WithTrait("phone", """{"type":"string","format":"no-validate"}"""));

        Assert.True(schema.Validate(JsonNode.Parse("""{"phone":"call me"}""")).IsValid);
    }

    [Fact]
    public void Validation_does_not_change_the_given_traits()
    {
        var traits = JsonNode.Parse("""{"email":"Jane@Example.org","username":"Jane"}""")!;
        var before = traits.ToJsonString();

        Rich.Validate(traits);

        Assert.Equal(before, traits.ToJsonString());
    }

    [Fact]
    public void Quickstart_email_password_schema_validates_like_kratos()
    {
        var schema = TestSchemas.Create(File.ReadAllText(ReferenceData.PathOrSkip("kratos", "quickstart", "email-password", "identity.schema.json")));

        var ok = schema.Validate(JsonNode.Parse("""{"email":"UpperCased@ory.sh","name":{"first":"Jane","last":"Doe"}}"""));
        Assert.True(ok.IsValid);
        Assert.Equal(["uppercased@ory.sh"], ok.CredentialIdentifiers["password"]);
        Assert.Equal([new AddressSpec("uppercased@ory.sh", "email")], ok.VerifiableAddresses);
        Assert.Equal([new AddressSpec("uppercased@ory.sh", "email")], ok.RecoveryAddresses);
        Assert.Equal(["password"], ok.CredentialIdentifiers.Keys);

        Assert.Equal("missing properties: \"email\"", SingleError(schema.Validate(JsonNode.Parse("{}"))).Message);
        var shortAndInvalid = schema.Validate(JsonNode.Parse("""{"email":"ab"}"""));
        Assert.Equal(["format", "minLength"], shortAndInvalid.Errors.Select(e => e.Keyword).Order());
        Assert.Equal("additionalProperties \"phone\" not allowed", SingleError(schema.Validate(JsonNode.Parse("""{"email":"a@ory.sh","phone":"1"}"""))).Message);
    }

    [Fact]
    public void Quickstart_all_strategies_schema_derives_every_identifier()
    {
        var schema = TestSchemas.Create(File.ReadAllText(ReferenceData.PathOrSkip("kratos", "quickstart", "all-strategies", "identity.schema.json")));

        var result = schema.Validate(JsonNode.Parse("""{"email":"Foo@Ory.sh"}"""));

        Assert.True(result.IsValid);
        Assert.Equal(["foo@ory.sh"], result.CredentialIdentifiers["password"]);
        Assert.Equal(["foo@ory.sh"], result.CredentialIdentifiers["webauthn"]);
        Assert.Equal(["foo@ory.sh"], result.CredentialIdentifiers["code"]);
        Assert.Equal([new AddressSpec("foo@ory.sh", "email")], result.CodeAddresses);
        Assert.Equal("Foo@Ory.sh", result.PasskeyDisplayName);
    }
}
