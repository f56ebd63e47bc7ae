using System.Text.Json.Nodes;
using Gatehouse.Identities;
using Gatehouse.Sessions;
using Gatehouse.Tests.Schemas;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Sessions;

public sealed class SessionJsonTests
{
    private static readonly DateTime Now = new(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc);

    private static SessionJson Json() =>
        new(new IdentityJson(id => "http://127.0.0.1:4433/schemas/" + id), new FakeTimeProvider(new DateTimeOffset(Now)));

    private static Session Sample(string identityState = IdentityStates.Active, bool active = true, DateTime? expiresAt = null)
    {
        var identity = new Identity
        {
            Id = Guid.CreateVersion7(),
            State = identityState,
            Traits = """{"email":"a@example.com"}""",
            MetadataPublic = """{"p":1}""",
            MetadataAdmin = """{"secret":1}""",
            CreatedAt = Now,
            UpdatedAt = Now,
            Credentials = [new IdentityCredential { Type = "password", Config = """{"hashed_password":"$2a$04$x"}""", CreatedAt = Now, UpdatedAt = Now }],
        };
        var session = new Session
        {
            Id = Guid.CreateVersion7(),
            IdentityId = identity.Id,
            Identity = identity,
            Active = active,
            AuthenticatedAt = Now.AddMinutes(-1),
            IssuedAt = Now.AddMinutes(-1),
            ExpiresAt = expiresAt ?? Now.AddHours(1),
            Aal = "aal1",
            AuthenticationMethods = SessionJson.SerializeMethods([SessionJson.MethodNode(new AuthenticationMethod("password", "aal1", Now.AddMinutes(-1)))]),
        };
        session.Devices.Add(new SessionDevice { Id = Guid.CreateVersion7(), IpAddress = "192.0.2.1", UserAgent = "ua", Location = "", CreatedAt = Now });
        return session;
    }

    [Fact]
    public void Session_json_has_exactly_the_fields_of_the_api_json_session_schema()
    {
        var spec = JsonNode.Parse(File.ReadAllText(ReferenceData.PathOrSkip("kratos", "api.json")))!["components"]!["schemas"]!;
        static HashSet<string> Properties(JsonNode schema) => [.. schema["properties"]!.AsObject().Select(p => p.Key)];

        var node = Json().ToNode(Sample(), includeIdentity: true, IdentityView.Public);
        var expected = Properties(spec["session"]!);
        expected.Remove("tokenized"); // only with tokenize_as
        Assert.Equal(expected.Order(), node.Select(p => p.Key).Order());

        var device = node["devices"]![0]!.AsObject();
        Assert.Equal(Properties(spec["sessionDevice"]!).Order(), device.Select(p => p.Key).Order());

        var method = node["authentication_methods"]![0]!.AsObject();
        Assert.Subset(Properties(spec["sessionAuthenticationMethod"]!), method.Select(p => p.Key).ToHashSet());

        var identity = node["identity"]!.AsObject();
        Assert.Subset(Properties(spec["identity"]!), identity.Select(p => p.Key).ToHashSet());
    }

    [Fact]
    public void Public_view_hides_credentials_and_metadata_admin_and_admin_view_adds_metadata_admin()
    {
        var session = Sample();
        var publicNode = Json().ToNode(session, includeIdentity: true, IdentityView.Public);
        Assert.False(publicNode["identity"]!.AsObject().ContainsKey("credentials"));
        Assert.False(publicNode["identity"]!.AsObject().ContainsKey("metadata_admin"));
        var adminNode = Json().ToNode(session, includeIdentity: true, IdentityView.Admin);
        Assert.False(adminNode["identity"]!.AsObject().ContainsKey("credentials"));
        Assert.Equal(1, adminNode["identity"]!["metadata_admin"]!["secret"]!.GetValue<int>());
        Assert.Equal("2026-03-01T11:59:00Z", adminNode["authenticated_at"]!.GetValue<string>());
        Assert.Equal("2026-03-01T13:00:00Z", adminNode["expires_at"]!.GetValue<string>());
    }

    [Fact]
    public void Unexpanded_identity_and_devices_are_null()
    {
        var node = Json().ToNode(Sample(), includeIdentity: false, IdentityView.Admin, includeDevices: false);
        Assert.True(node.ContainsKey("identity"));
        Assert.Null(node["identity"]);
        Assert.True(node.ContainsKey("devices"));
        Assert.Null(node["devices"]);
    }

    [Fact]
    public void Active_is_computed_from_revocation_expiry_and_identity_state()
    {
        var json = Json();
        Assert.True(json.ToNode(Sample(), true, IdentityView.Public)["active"]!.GetValue<bool>());
        Assert.False(json.ToNode(Sample(active: false), true, IdentityView.Public)["active"]!.GetValue<bool>());
        Assert.False(json.ToNode(Sample(expiresAt: Now), true, IdentityView.Public)["active"]!.GetValue<bool>());
        Assert.False(json.ToNode(Sample(IdentityStates.Inactive), true, IdentityView.Public)["active"]!.GetValue<bool>());
    }
}
