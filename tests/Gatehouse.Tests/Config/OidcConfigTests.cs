using Gatehouse.Config;

namespace Gatehouse.Tests.Config;

/// <summary><c>selfservice.methods.oidc</c>: Kratos's provider keys bound, what Gatehouse cannot serve refused at start-up with the key to fix.</summary>
public sealed class OidcConfigTests : IDisposable
{
    private readonly ConfigFiles _files = new();

    public void Dispose() => _files.Dispose();

    private ConfigLoadResult Load(string providers) => ConfigLoader.Load([_files.Write("kratos.yml", $$"""
        dsn: memory
        selfservice:
          methods:
            oidc:
              enabled: true
              config:
                base_redirect_uri: https://auth.example.com/
                providers:
        {{providers}}
        """)], new Dictionary<string, string?>(), dev: false);

    private const string Generic = """
                  - id: corp
                    provider: generic
                    label: Corp SSO
                    client_id: gatehouse
                    client_secret: s3cret
                    issuer_url: https://sso.example.com
                    mapper_url: file:///etc/gatehouse/corp.jsonnet
                    scope: [email, profile]
                    requested_claims: { id_token: { email: { essential: true } } }
                    pkce: force
                    claims_source: userinfo
                    microsoft_tenant: common
        """;

    [Fact]
    public void A_generic_provider_is_bound_with_kratos_keys_and_unknown_ones_are_warned_about()
    {
        var result = Load(Generic);
        var oidc = result.Options.Selfservice.Methods.Oidc;
        Assert.True(oidc.Enabled);
        Assert.Equal("https://auth.example.com/", oidc.Config.BaseRedirectUri);
        var p = Assert.Single(oidc.Config.Providers);
        Assert.Equal(("corp", "generic", "Corp SSO", "gatehouse", "s3cret"), (p.Id, p.Provider, p.DisplayLabel, p.ClientId, p.ClientSecret));
        Assert.Equal(["email", "profile"], p.Scope);
        Assert.Equal(("force", "userinfo"), (p.Pkce, p.ClaimsSource));
        Assert.Equal("""{"id_token":{"email":{"essential":true}}}""", p.RequestedClaims!.ToJsonString());
        Assert.Contains("\"selfservice.methods.oidc.config.providers[0].microsoft_tenant\" is not supported by Gatehouse yet and is ignored", result.Warnings);
    }

    [Fact]
    public void Two_providers_with_one_id_are_refused()
    {
        var e = Assert.Throws<ConfigException>(() => Load(Generic + "\n" + Generic));
        Assert.StartsWith("selfservice.methods.oidc.config.providers[1].id: \"corp\" is used by another provider", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_generic_provider_without_issuer_url_or_with_a_preset_gatehouse_lacks_is_refused()
    {
        var noIssuer = Assert.Throws<ConfigException>(() => Load(Generic.Replace("issuer_url: https://sso.example.com", "auth_url: https://sso.example.com/auth", StringComparison.Ordinal)));
        Assert.StartsWith("selfservice.methods.oidc.config.providers[0].issuer_url: is required", noIssuer.Message, StringComparison.Ordinal);
        var preset = Assert.Throws<ConfigException>(() => Load(Generic.Replace("provider: generic", "provider: gitlab", StringComparison.Ordinal)));
        Assert.StartsWith("selfservice.methods.oidc.config.providers[0].provider:", preset.Message, StringComparison.Ordinal);
        var badId = Assert.Throws<ConfigException>(() => Load(Generic.Replace("id: corp", "id: \"corp/sso\"", StringComparison.Ordinal)));
        Assert.StartsWith("selfservice.methods.oidc.config.providers[0].id:", badId.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_google_and_apple_presets_know_their_issuer()
    {
        var google = Load(Generic.Replace("provider: generic", "provider: google", StringComparison.Ordinal).Replace("issuer_url: https://sso.example.com", "auth_url: https://sso.example.com/auth", StringComparison.Ordinal));
        Assert.Equal("https://accounts.google.com", Assert.Single(google.Options.Selfservice.Methods.Oidc.Config.Providers).IssuerUrl);
        var apple = Load(Generic.Replace("provider: generic", "provider: apple", StringComparison.Ordinal).Replace("issuer_url: https://sso.example.com", "auth_url: https://sso.example.com/auth", StringComparison.Ordinal));
        Assert.Equal("https://appleid.apple.com", Assert.Single(apple.Options.Selfservice.Methods.Oidc.Config.Providers).IssuerUrl);
    }
}
