using System.Text.Json.Nodes;
using Gatehouse.Schemas;

namespace Gatehouse.Tests.Schemas;

public sealed class TraitsExtensionTests
{
    private static readonly IdentitySchema Rich = TestSchemas.Create(TestSchemas.Rich);

    private static TraitsValidationResult Valid(IdentitySchema schema, string traits)
    {
        var result = schema.Validate(JsonNode.Parse(traits));
        Assert.True(result.IsValid, string.Join("; ", result.Errors.Select(e => $"{e.InstancePointer}: {e.Message}")));
        return result;
    }

    [Fact]
    public void Password_identifiers_come_from_every_marked_trait_normalised()
    {
        var result = Valid(Rich, """{"email":"Jane@Example.ORG","username":"  JaneDoe "}""");

        Assert.Equal(["jane@example.org", "janedoe"], result.CredentialIdentifiers["password"]);
    }

    [Fact]
    public void Webauthn_and_code_identifiers_come_from_their_marked_traits()
    {
        var result = Valid(Rich, """{"email":"Jane@Example.org","username":"jane","phone":"+49 176 67111638"}""");

        Assert.Equal(["jane@example.org"], result.CredentialIdentifiers["webauthn"]);
        Assert.Equal(["jane@example.org", "+4917667111638"], result.CredentialIdentifiers["code"]);
        Assert.Equal(
            [new AddressSpec("+4917667111638", "sms"), new AddressSpec("jane@example.org", "email")],
            result.CodeAddresses);
    }

    [Fact]
    public void Totp_account_name_and_passkey_display_name_keep_the_trait_as_written()
    {
        var result = Valid(Rich, """{"email":"Jane@Example.org","username":"jane"}""");

        Assert.Equal("Jane@Example.org", result.TotpAccountName);
        Assert.Equal("Jane@Example.org", result.PasskeyDisplayName);
        Assert.DoesNotContain("totp", result.CredentialIdentifiers.Keys);
        Assert.DoesNotContain("passkey", result.CredentialIdentifiers.Keys);
    }

    [Fact]
    public void Only_credential_types_with_identifiers_appear()
    {
        var result = Valid(Rich, """{"email":"jane@example.org","username":"jane"}""");

        Assert.Equal(["code", "password", "webauthn"], result.CredentialIdentifiers.Keys.Order());
        Assert.Equal([new AddressSpec("jane@example.org", "email")], result.CodeAddresses);
    }

    [Fact]
    public void An_array_of_strings_yields_one_identifier_and_address_per_item_without_duplicates()
    {
        var result = Valid(Rich, """
            {"email":"jane@example.org","username":"jane","backup_emails":["Work@Example.org","JANE@example.org","work@example.org"]}
            """);

        Assert.Equal(["jane@example.org", "jane", "work@example.org"], result.CredentialIdentifiers["password"]);
        Assert.Equal(
            [new AddressSpec("jane@example.org", "email"), new AddressSpec("work@example.org", "email")],
            result.VerifiableAddresses);
    }

    [Fact]
    public void Verification_and_recovery_addresses_are_derived_for_email_and_sms()
    {
        var result = Valid(Rich, """{"email":"Jane@Example.org","username":"jane","phone":"+49 (176) 671-11638"}""");

        Assert.Equal(
            [new AddressSpec("jane@example.org", "email"), new AddressSpec("+4917667111638", "sms")],
            result.VerifiableAddresses);
        Assert.Equal(
            [new AddressSpec("jane@example.org", "email"), new AddressSpec("+4917667111638", "sms")],
            result.RecoveryAddresses);
    }

    [Fact]
    public void Traits_without_the_extension_derive_nothing()
    {
        var schema = TestSchemas.Create(TestSchemas.WithTrait("nick", """{"type":"string"}"""));

        var result = Valid(schema, """{"nick":"jane"}""");

        Assert.Empty(result.CredentialIdentifiers);
        Assert.Empty(result.VerifiableAddresses);
        Assert.Empty(result.RecoveryAddresses);
        Assert.Empty(result.CodeAddresses);
        Assert.Null(result.TotpAccountName);
    }

    [Fact]
    public void Absent_optional_traits_derive_nothing()
    {
        var result = Valid(Rich, """{"email":"jane@example.org","username":"jane"}""");

        Assert.DoesNotContain(result.VerifiableAddresses, a => a.Via == "sms");
    }

    [Fact]
    public void Verification_via_email_without_a_format_still_requires_an_email()
    {
        var schema = TestSchemas.Create(TestSchemas.WithTrait("contact", """
            {"type":"string","ory.sh/kratos":{"verification":{"via":"email"},"recovery":{"via":"email"}}}
            """));

        Assert.Equal([new AddressSpec("a@example.org", "email")], Valid(schema, """{"contact":"A@Example.org"}""").VerifiableAddresses);
        var invalid = schema.Validate(JsonNode.Parse("""{"contact":"not-an-email"}"""));
        Assert.Equal(
            [("#/traits/contact", "\"not-an-email\" is not valid \"email\"", "format"), ("#/traits/contact", "\"not-an-email\" is not valid \"email\"", "format")],
            invalid.Errors.Select(e => (e.InstancePointer, e.Message, e.Keyword)));
        Assert.Empty(invalid.VerifiableAddresses);
    }

    [Fact]
    public void Verification_via_sms_with_no_validate_keeps_an_unparseable_number_trimmed()
    {
        var schema = TestSchemas.Create(TestSchemas.WithTrait("phone", """
            {"type":"string","format":"no-validate","ory.sh/kratos":{"verification":{"via":"sms"}}}
            """));

        Assert.Equal([new AddressSpec("12345", "sms")], Valid(schema, """{"phone":" 12345 "}""").VerifiableAddresses);
        Assert.Equal([new AddressSpec("+4917667111638", "sms")], Valid(schema, """{"phone":"+49 176 67111638"}""").VerifiableAddresses);
    }

    /// <summary>
    /// Kratos's <c>NormalizeIdentifier(value, "sms")</c> refuses what cannot be an E.164 number with the Go error's text,
    /// as a plain validation error (no keyword: the generic 4000001); nyaruka/phonenumbers and libphonenumber-csharp are
    /// ports of the same Java library, so each kind of parse failure has its Go wording.
    /// </summary>
    [Theory]
    [InlineData("12", "invalid country code")]
    [InlineData("abc", "the phone number supplied is not a number")]
    [InlineData("+491", "the string supplied is too short to be a phone number")]
    [InlineData("+49 17", "the provided number is not a valid phone number")]
    [InlineData("+49 176 6711\u0007", "precis: disallowed rune encountered")]
    public void A_code_identifier_via_sms_must_be_a_phone_number(string phone, string goError)
    {
        var schema = TestSchemas.Create(TestSchemas.WithTrait("phone", """
            {"type":"string","ory.sh/kratos":{"credentials":{"code":{"identifier":true,"via":"sms"}}}}
            """));

        var error = Assert.Single(schema.Validate(new JsonObject { ["phone"] = phone }).Errors);

        Assert.Equal(("#/traits/phone", goError, ""), (error.InstancePointer, error.Message, error.Keyword));
        Assert.Equal(4000001, Gatehouse.Text.Messages.FromTraitsError(error)["id"]!.GetValue<long>());
    }

    [Fact]
    public void A_code_identifier_via_email_must_be_an_email_unless_the_format_says_otherwise()
    {
        var strict = TestSchemas.Create(TestSchemas.WithTrait("login", """
            {"type":"string","ory.sh/kratos":{"credentials":{"code":{"identifier":true,"via":"email"}}}}
            """));
        var relaxed = TestSchemas.Create(TestSchemas.WithTrait("login", """
            {"type":"string","format":"no-validate","ory.sh/kratos":{"credentials":{"code":{"identifier":true,"via":"email"}}}}
            """));

        Assert.Equal("\"foo.@docomo.ne.jp\" is not a valid \"email\"", Assert.Single(strict.Validate(JsonNode.Parse("""{"login":"foo.@docomo.ne.jp"}""")).Errors).Message);
        var result = Valid(relaxed, """{"login":"Foo.@docomo.ne.jp"}""");
        Assert.Equal(["foo.@docomo.ne.jp"], result.CredentialIdentifiers["code"]);
        Assert.Equal([new AddressSpec("foo.@docomo.ne.jp", "email")], result.CodeAddresses);
    }

    [Fact]
    public void A_code_identifier_without_via_takes_the_channel_from_the_format()
    {
        var schema = TestSchemas.Create(TestSchemas.WithTrait("phone", """
            {"type":"string","format":"tel","ory.sh/kratos":{"credentials":{"code":{"identifier":true}}}}
            """));
        var unknown = TestSchemas.Create(TestSchemas.WithTrait("login", """
            {"type":"string","ory.sh/kratos":{"credentials":{"code":{"identifier":true}}}}
            """));

        Assert.Equal([new AddressSpec("+4917667111638", "sms")], Valid(schema, """{"phone":"+4917667111638"}""").CodeAddresses);
        Assert.Equal("credentials.code.via has unknown value \"\"", Assert.Single(unknown.Validate(JsonNode.Parse("""{"login":"x"}""")).Errors).Message);
    }

    [Fact]
    public void The_extension_is_honoured_behind_a_reference()
    {
        var schema = TestSchemas.Create("""
            {
              "definitions": {
                "email": {"type":"string","format":"email","ory.sh/kratos":{"credentials":{"password":{"identifier":true}},"recovery":{"via":"email"}}}
              },
              "properties": {"traits": {"type":"object","properties": {"email": {"$ref":"#/definitions/email"}}}}
            }
            """);

        var result = Valid(schema, """{"email":"Jane@Example.org"}""");

        Assert.Equal(["jane@example.org"], result.CredentialIdentifiers["password"]);
        Assert.Equal([new AddressSpec("jane@example.org", "email")], result.RecoveryAddresses);
    }

    [Fact]
    public void The_extension_on_array_items_applies_to_each_item()
    {
        var schema = TestSchemas.Create(TestSchemas.WithTrait("emails", """
            {"type":"array","items":{"type":"string","format":"email","ory.sh/kratos":{"credentials":{"password":{"identifier":true}},"verification":{"via":"email"}}}}
            """));

        var result = Valid(schema, """{"emails":["A@example.org","b@example.org","a@example.org"]}""");

        Assert.Equal(["a@example.org", "b@example.org"], result.CredentialIdentifiers["password"]);
        Assert.Equal([new AddressSpec("a@example.org", "email"), new AddressSpec("b@example.org", "email")], result.VerifiableAddresses);
    }

    [Fact]
    public void A_password_identifier_that_is_a_phone_number_is_stored_in_e164()
    {
        var schema = TestSchemas.Create(TestSchemas.WithTrait("phone", """
            {"type":"string","ory.sh/kratos":{"credentials":{"password":{"identifier":true}}}}
            """));

        Assert.Equal(["+4917667111638"], Valid(schema, """{"phone":"+49 176 67111638"}""").CredentialIdentifiers["password"]);
    }

    [Fact]
    public void The_kratos_import_snapshot_with_a_non_normalised_email_is_reproduced()
    {
        var path = ReferenceData.PathOrSkip("kratos", "snapshots", "identity", "TestHandler-case=should_be_able_to_import_users-with_not-normalized_email.json");
        var snapshot = JsonNode.Parse(File.ReadAllText(path))!;
        var schema = TestSchemas.Create(File.ReadAllText(ReferenceData.PathOrSkip("kratos", "quickstart", "email-password", "identity.schema.json")));

        var result = Valid(schema, snapshot["traits"]!.ToJsonString());

        Assert.Equal(snapshot["credentials"]!["password"]!["identifiers"]!.AsArray().Select(i => i!.GetValue<string>()), result.CredentialIdentifiers["password"]);
        Assert.Equal(
            snapshot["verifiable_addresses"]!.AsArray().Select(a => new AddressSpec(a!["value"]!.GetValue<string>(), a["via"]!.GetValue<string>())),
            result.VerifiableAddresses);
        Assert.Equal(
            snapshot["recovery_addresses"]!.AsArray().Select(a => new AddressSpec(a!["value"]!.GetValue<string>(), a["via"]!.GetValue<string>())),
            result.RecoveryAddresses);
    }
}
