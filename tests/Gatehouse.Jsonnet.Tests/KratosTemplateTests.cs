namespace Gatehouse.Jsonnet.Tests;

/// <summary>The shapes of template Kratos users bring along (from the Kratos documentation's examples).</summary>
public sealed class KratosTemplateTests
{
    private static JsonnetEvaluationOptions Ext(string name, string json) =>
        new() { ExtVars = new Dictionary<string, ExternalValue> { [name] = ExternalValue.Json(json) } };

    private static JsonnetEvaluationOptions Tla(string name, string json) =>
        new() { TopLevelArgs = new Dictionary<string, ExternalValue> { [name] = ExternalValue.Json(json) } };

    [Fact]
    public void Social_sign_in_claims_mapper_keeps_only_verified_email()
    {
        const string mapper = """
            local claims = {
              email_verified: false,
            } + std.extVar('claims');

            {
              identity: {
                traits: {
                  // Allowing unverified email addresses enables account enumeration attacks,
                  // especially if the value is used for e.g. verification or as a password login identifier.
                  [if 'email' in claims && claims.email_verified then 'email' else null]: claims.email,
                  username: claims.sub,
                },
                metadata_public: { provider_sub: claims.sub },
              },
            }
            """;
        Assert.Equal(
            "{\"identity\":{\"metadata_public\":{\"provider_sub\":\"123\"},\"traits\":{\"email\":\"a@example.com\",\"username\":\"123\"}}}",
            Eval.Min(mapper, Ext("claims", """{"sub": "123", "email": "a@example.com", "email_verified": true}""")));
        Assert.Equal(
            "{\"identity\":{\"metadata_public\":{\"provider_sub\":\"123\"},\"traits\":{\"username\":\"123\"}}}",
            Eval.Min(mapper, Ext("claims", """{"sub": "123", "email": "a@example.com"}""")));
    }

    [Fact]
    public void Web_hook_body_reads_the_context()
    {
        const string body = """
            function(ctx) {
              userId: ctx.identity.id,
              traits: {
                email: ctx.identity.traits.email,
              },
              [if std.objectHas(ctx, 'transient_payload') then 'consent']: ctx.transient_payload.consent,
              headers: ctx.request_headers,
            }
            """;
        Assert.Equal(
            "{\"consent\":true,\"headers\":{\"User-Agent\":[\"x\"]},\"traits\":{\"email\":\"j@example.com\"},\"userId\":\"u1\"}",
            Eval.Min(body, Tla("ctx", """{"identity": {"id": "u1", "traits": {"email": "j@example.com"}}, "request_headers": {"User-Agent": ["x"]}, "transient_payload": {"consent": true}}""")));
    }

    [Fact]
    public void Web_hook_can_cancel_by_failing()
    {
        const string body = """
            function(ctx) if ctx.identity.traits.email == 'blocked@example.com' then error 'cancel' else { ok: true }
            """;
        var e = Eval.Error(body, Tla("ctx", """{"identity": {"traits": {"email": "blocked@example.com"}}}"""));
        Assert.Equal("cancel", e.Message);
    }

    [Fact]
    public void Courier_http_sms_body_formats_the_message()
    {
        const string body = """
            function(ctx) {
              To: ctx.recipient,
              Body: 'Your code is: %s' % ctx.template_data.verification_code,
            }
            """;
        Assert.Equal(
            "{\"Body\":\"Your code is: 123456\",\"To\":\"+15555550123\"}",
            Eval.Min(body, Tla("ctx", """{"recipient": "+15555550123", "template_type": "verification_code", "template_data": {"verification_code": "123456"}}""")));
    }

    [Fact]
    public void Session_tokenizer_claims_extend_the_defaults()
    {
        const string tokenizer = """
            local claims = std.extVar('claims');
            local session = std.extVar('session');
            {
              claims: claims {
                email: session.identity.traits.email,
                plan: std.get(session.identity.metadata_public, 'plan', 'free'),
              },
            }
            """;
        var options = new JsonnetEvaluationOptions
        {
            ExtVars = new Dictionary<string, ExternalValue>
            {
                ["claims"] = ExternalValue.Json("""{"sub": "u1", "iss": "https://auth.example.com"}"""),
                ["session"] = ExternalValue.Json("""{"identity": {"traits": {"email": "j@example.com"}, "metadata_public": {}}}"""),
            },
        };
        Assert.Equal(
            "{\"claims\":{\"email\":\"j@example.com\",\"iss\":\"https://auth.example.com\",\"plan\":\"free\",\"sub\":\"u1\"}}",
            Eval.Min(tokenizer, options));
    }
}
