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
                    organization_id: 5f1c9a3e-0000-4000-8000-000000000001
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
        Assert.Contains("\"selfservice.methods.oidc.config.providers[0].organization_id\" is not supported by Gatehouse yet and is ignored", result.Warnings);
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
        var preset = Assert.Throws<ConfigException>(() => Load(Generic.Replace("provider: generic", "provider: fedcm-test", StringComparison.Ordinal)));
        Assert.StartsWith("selfservice.methods.oidc.config.providers[0].provider:", preset.Message, StringComparison.Ordinal);
        var badId = Assert.Throws<ConfigException>(() => Load(Generic.Replace("id: corp", "id: \"corp/sso\"", StringComparison.Ordinal)));
        Assert.StartsWith("selfservice.methods.oidc.config.providers[0].id:", badId.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fedcm_config_url_is_bound_for_google_and_netid_and_refused_in_one_line_for_other_presets()
    {
        const string Google = """
                      - id: google
                        provider: google
                        client_id: 123.apps.googleusercontent.com
                        mapper_url: file:///etc/gatehouse/google.jsonnet
                        fedcm_config_url: https://accounts.google.com/gsi/fedcm.json
            """;
        var loaded = Load(Google);
        Assert.Equal("https://accounts.google.com/gsi/fedcm.json", Assert.Single(loaded.Options.Selfservice.Methods.Oidc.Config.Providers).FedcmConfigUrl);
        Assert.DoesNotContain(loaded.Warnings, w => w.Contains("fedcm_config_url", StringComparison.Ordinal));

        // netid takes it too, with the Origin of its broker exchange.
        var netid = Load((Generic + "\n            fedcm_config_url: https://netid.de/fedcm.json\n            net_id_token_origin_header: https://app.example.com").Replace("provider: generic", "provider: netid", StringComparison.Ordinal));
        var p = Assert.Single(netid.Options.Selfservice.Methods.Oidc.Config.Providers);
        Assert.Equal(("https://netid.de/fedcm.json", "https://app.example.com"), (p.FedcmConfigUrl, p.NetIdTokenOriginHeader));
        Assert.DoesNotContain(netid.Warnings, w => w.Contains("fedcm", StringComparison.Ordinal) || w.Contains("net_id", StringComparison.Ordinal));

        foreach (var preset in new[] { "generic", "apple", "github" })
        {
            var refused = Assert.Throws<ConfigException>(() => Load((Generic + "\n            fedcm_config_url: https://sso.example.com/fedcm.json").Replace("provider: generic", "provider: " + preset, StringComparison.Ordinal)));
            Assert.Equal($"selfservice.methods.oidc.config.providers[0].fedcm_config_url: FedCM is not supported for a {preset} provider; only google and netid providers take it (remove the key)", refused.Message);
            Assert.DoesNotContain('\n', refused.Message);
        }

        var relative = Assert.Throws<ConfigException>(() => Load(Google.Replace("https://accounts.google.com/gsi/fedcm.json", "/gsi/fedcm.json", StringComparison.Ordinal)));
        Assert.Contains("fedcm_config_url", relative.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_google_and_apple_presets_know_their_issuer()
    {
        var google = Load(Generic.Replace("provider: generic", "provider: google", StringComparison.Ordinal).Replace("issuer_url: https://sso.example.com", "auth_url: https://sso.example.com/auth", StringComparison.Ordinal));
        Assert.Equal("https://accounts.google.com", Assert.Single(google.Options.Selfservice.Methods.Oidc.Config.Providers).IssuerUrl);
        var apple = Load(Generic.Replace("provider: generic", "provider: apple", StringComparison.Ordinal).Replace("issuer_url: https://sso.example.com", "auth_url: https://sso.example.com/auth", StringComparison.Ordinal));
        Assert.Equal("https://appleid.apple.com", Assert.Single(apple.Options.Selfservice.Methods.Oidc.Config.Providers).IssuerUrl);
    }

    private static string Entry(string preset, string extra = "") => $$"""
                  - id: p
                    provider: {{preset}}
                    client_id: c
                    client_secret: s
                    mapper_url: base64://e30=
        {{extra}}
        """;

    [Theory]
    [InlineData("microsoft", "", "selfservice.methods.oidc.config.providers[0].microsoft_tenant: is required for a microsoft provider")]
    [InlineData("microsoft", "            microsoft_tenant: \"a/b\"", "selfservice.methods.oidc.config.providers[0].microsoft_tenant: \"a/b\" is not a tenant")]
    [InlineData("microsoft", "            microsoft_tenant: common\n            subject_source: email", "selfservice.methods.oidc.config.providers[0].subject_source:")]
    [InlineData("auth0", "", "selfservice.methods.oidc.config.providers[0].issuer_url: is required for an auth0 provider")]
    [InlineData("generic", "", "selfservice.methods.oidc.config.providers[0].issuer_url: is required for a generic provider")]
    [InlineData("apple", "            apple_team_id: TEAM", "selfservice.methods.oidc.config.providers[0].apple_private_key_id: is required")]
    [InlineData("apple", "            apple_team_id: TEAM\n            apple_private_key_id: KID\n            apple_private_key: not-a-pem", "selfservice.methods.oidc.config.providers[0].apple_private_key:")]
    [InlineData("salesforce", "", "selfservice.methods.oidc.config.providers[0].issuer_url: is required for a salesforce provider")]
    [InlineData("linkedin", "", "selfservice.methods.oidc.config.providers[0].provider:")]
    [InlineData("amazon", "            scope: [profile, email]\n            pkce: force", "selfservice.methods.oidc.config.providers[0].scope: \"email\" is not a scope Amazon supports")]
    [InlineData("amazon", "            scope: [profile]", "selfservice.methods.oidc.config.providers[0].pkce: auto is not possible for amazon")]
    public void A_preset_missing_what_it_needs_or_unknown_is_refused_at_start_up(string preset, string extra, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => Load(Entry(preset, extra)));
        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Presets_with_their_own_endpoints_need_no_issuer_and_apple_takes_a_p256_key()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var pem = string.Join("\n", key.ExportPkcs8PrivateKeyPem().Split('\n').Select(l => "              " + l));
        var result = Load(Entry("microsoft", "            microsoft_tenant: common\n            subject_source: oid") + "\n" + Entry("gitlab").Replace("id: p", "id: g", StringComparison.Ordinal)
            + "\n" + Entry("discord").Replace("id: p", "id: d", StringComparison.Ordinal) + "\n" + Entry("slack").Replace("id: p", "id: s", StringComparison.Ordinal)
            + "\n" + Entry("facebook").Replace("id: p", "id: f", StringComparison.Ordinal)
            + "\n" + Entry("apple", "            apple_team_id: TEAM\n            apple_private_key_id: KID\n            apple_private_key: |\n" + pem).Replace("id: p", "id: a", StringComparison.Ordinal));
        var providers = result.Options.Selfservice.Methods.Oidc.Config.Providers;
        Assert.Equal(("common", "oid"), (providers[0].MicrosoftTenant, providers[0].SubjectSource));
        Assert.Equal("https://gitlab.com", providers[1].IssuerUrl);
        Assert.Equal(("TEAM", "KID"), (providers[5].AppleTeamId, providers[5].ApplePrivateKeyId));
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", providers[5].ApplePrivateKey, StringComparison.Ordinal);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("microsoft_tenant", StringComparison.Ordinal) || w.Contains("apple_", StringComparison.Ordinal));

        using var p384 = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP384);
        var wrongCurve = string.Join("\n", p384.ExportPkcs8PrivateKeyPem().Split('\n').Select(l => "              " + l));
        var e = Assert.Throws<ConfigException>(() => Load(Entry("apple", "            apple_team_id: TEAM\n            apple_private_key_id: KID\n            apple_private_key: |\n" + wrongCurve)));
        Assert.Contains("P-256", e.Message, StringComparison.Ordinal);
    }
}
