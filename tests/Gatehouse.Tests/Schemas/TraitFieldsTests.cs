using Gatehouse.Schemas;

namespace Gatehouse.Tests.Schemas;

public sealed class TraitFieldsTests
{
    [Fact]
    public void Trait_fields_are_listed_in_schema_order_with_nested_objects_flattened()
    {
        var schema = TestSchemas.Create(TestSchemas.Rich);

        Assert.Equal(
            ["traits.email", "traits.username", "traits.phone", "traits.backup_emails", "traits.name.first", "traits.name.last", "traits.age", "traits.newsletter"],
            schema.TraitFields.Select(f => f.Name));
    }

    [Fact]
    public void Each_field_carries_type_format_title_required_and_limits()
    {
        var fields = TestSchemas.Create(TestSchemas.Rich).TraitFields.ToDictionary(f => f.Name);

        Assert.Equal(("string", "email", "E-Mail", true), (fields["traits.email"].Type, fields["traits.email"].Format, fields["traits.email"].Title, fields["traits.email"].Required));
        Assert.Equal((3, 12), (fields["traits.username"].MinLength, fields["traits.username"].MaxLength));
        Assert.Equal(("string", "tel", false), (fields["traits.phone"].Type, fields["traits.phone"].Format, fields["traits.phone"].Required));
        Assert.Equal("array", fields["traits.backup_emails"].Type);
        Assert.Equal(("First name", false), (fields["traits.name.first"].Title, fields["traits.name.first"].Required));
        Assert.True(fields["traits.name.last"].Required);
        Assert.Equal("integer", fields["traits.age"].Type);
        Assert.Equal("boolean", fields["traits.newsletter"].Type);
    }

    [Fact]
    public void Each_field_carries_its_kratos_extension_flags()
    {
        var fields = TestSchemas.Create(TestSchemas.Rich).TraitFields.ToDictionary(f => f.Name);

        Assert.Equal(
            new TraitExtension
            {
                PasswordIdentifier = true,
                WebAuthnIdentifier = true,
                CodeIdentifier = true,
                CodeVia = "email",
                TotpAccountName = true,
                PasskeyDisplayName = true,
                VerificationVia = "email",
                RecoveryVia = "email",
            },
            fields["traits.email"].Extension);
        Assert.Equal(new TraitExtension { CodeIdentifier = true, CodeVia = "sms", VerificationVia = "sms", RecoveryVia = "sms" }, fields["traits.phone"].Extension);
        Assert.Same(TraitExtension.None, fields["traits.age"].Extension);
    }

    [Fact]
    public void A_nullable_type_list_reports_its_non_null_type()
    {
        var schema = TestSchemas.Create(TestSchemas.WithTrait("nick", """{"type":["null","string"],"pattern":"^[a-z]+$"}"""));

        var field = Assert.Single(schema.TraitFields);
        Assert.Equal(("string", "^[a-z]+$"), (field.Type, field.Pattern));
    }
}
