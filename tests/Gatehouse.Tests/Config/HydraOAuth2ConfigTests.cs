using Gatehouse.Config;
using Gatehouse.OAuth2;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.Config;

/// <summary>Hydra's refresh-token grace, never-expiring refresh tokens and discovery overrides, as configuration.</summary>
public sealed class HydraOAuth2ConfigTests : IDisposable
{
    private static readonly Dictionary<string, string?> NoEnvironment = [];
    private readonly ConfigFiles _files = new();

    public void Dispose() => _files.Dispose();

    private ConfigLoadResult Load(string yaml) =>
        ConfigLoader.Load([_files.Write("hydra.yml", "dsn: memory\nsecrets: {default: [a-default-secret-value]}\n" + yaml + "\n")], NoEnvironment, dev: false);

    private ConfigLoadResult LoadDev(string yaml) =>
        ConfigLoader.Load([_files.Write("hydra.yml", "dsn: memory\nsecrets: {default: [a-default-secret-value]}\n" + yaml + "\n")], NoEnvironment, dev: true);

    private ConfigException LoadFails(string yaml) => Assert.Throws<ConfigException>(() => Load(yaml));

    [Fact]
    public void The_refresh_token_grace_keys_are_read()
    {
        var result = Load("oauth2: {grant: {refresh_token: {rotation_grace_period: 30s, rotation_grace_reuse_count: 3}}}");
        Assert.Empty(result.Warnings);
        var settings = OAuth2Settings.From(result.Options);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.RefreshTokenRotationGracePeriod);
        Assert.Equal(3, settings.RefreshTokenRotationGraceReuseCount);

        var defaults = OAuth2Settings.From(Load("").Options);
        Assert.Equal(TimeSpan.Zero, defaults.RefreshTokenRotationGracePeriod);
        Assert.Equal(0, defaults.RefreshTokenRotationGraceReuseCount);
    }

    [Fact]
    public void Oauth2_hashers_are_read_with_hydras_defaults_and_bounds()
    {
        var set = Load("oauth2: {hashers: {algorithm: bcrypt, bcrypt: {cost: 11}, pbkdf2: {iterations: 1000}}}");
        Assert.Empty(set.Warnings);
        Assert.Equal("bcrypt", set.Options.Oauth2.Hashers.Algorithm);
        Assert.Equal(11, set.Options.Oauth2.Hashers.Bcrypt.Cost);
        Assert.Equal(1000, set.Options.Oauth2.Hashers.Pbkdf2.Iterations);
        Assert.StartsWith("$2a$11$", Gatehouse.OAuth2.Clients.ClientSecretHasher.From(set.Options).Hash("some-client-secret"));

        // Hydra's defaults (.schema/config.schema.json, provider_fosite.go GetBCryptCost): pbkdf2, 25,000 iterations, cost 10.
        var defaults = Load("").Options.Oauth2.Hashers;
        Assert.Equal(("pbkdf2", 10, 25_000), (defaults.Algorithm, defaults.Bcrypt.Cost, defaults.Pbkdf2.Iterations));
        Assert.StartsWith("$pbkdf2-sha256$i=25000,l=32$", Gatehouse.OAuth2.Clients.ClientSecretHasher.From(Load("").Options).Hash("some-client-secret"));

        Assert.StartsWith("oauth2.hashers.algorithm: expected", LoadFails("oauth2: {hashers: {algorithm: argon2}}").Message);
        Assert.StartsWith("oauth2.hashers.bcrypt.cost: expected", LoadFails("oauth2: {hashers: {bcrypt: {cost: 3}}}").Message);
        Assert.StartsWith("oauth2.hashers.pbkdf2.iterations: expected", LoadFails("oauth2: {hashers: {pbkdf2: {iterations: 0}}}").Message);
    }

    [Fact]
    public void Session_encrypt_at_rest_is_read_and_on_by_default()
    {
        Assert.True(OAuth2Settings.From(Load("").Options).EncryptSessionAtRest);
        var off = Load("oauth2: {session: {encrypt_at_rest: false}}");
        Assert.Empty(off.Warnings);
        Assert.False(OAuth2Settings.From(off.Options).EncryptSessionAtRest);
    }

    [Fact]
    public void Serve_cookies_are_read_with_hydras_defaults_dev_names_secure_flag_and_same_site_rule()
    {
        var set = Load("serve: {cookies: {same_site_mode: Strict, same_site_legacy_workaround: true, secure: false, domain: example.com, names: {login_csrf: a, consent_csrf: b, device_csrf: c, session: d}, paths: {session: /oauth2}}}");
        Assert.Empty(set.Warnings);
        var s = OAuth2Settings.From(set.Options);
        Assert.Equal(("a", "b", "c", "d", "/oauth2", "example.com"), (s.LoginCsrfCookie, s.ConsentCsrfCookie, s.DeviceCsrfCookie, s.SessionCookie, s.SessionCookiePath, s.CookieDomain));
        Assert.Equal(SameSiteMode.Strict, s.CookieSameSite);
        Assert.True(s.CookieSameSiteLegacyWorkaround);
        Assert.Equal("/oauth2", s.CookieOptionsFor("d").Path);
        Assert.Equal("/", s.CookieOptionsFor("a_1234").Path);
        // Hydra CookieSecure: outside dev mode the cookies are Secure whatever serve.cookies.secure says.
        Assert.True(s.SecureCookies);

        // Hydra's defaults (spec/config.json): its names, path /, no domain; SameSite None only for an https issuer, else Lax.
        var defaults = OAuth2Settings.From(Load("urls: {self: {issuer: http://auth.example/}}").Options);
        Assert.Equal(("ory_hydra_login_csrf", "ory_hydra_consent_csrf", "ory_hydra_device_csrf", "ory_hydra_session", "/", null),
            (defaults.LoginCsrfCookie, defaults.ConsentCsrfCookie, defaults.DeviceCsrfCookie, defaults.SessionCookie, defaults.SessionCookiePath, defaults.CookieDomain));
        Assert.Equal(SameSiteMode.Lax, defaults.CookieSameSite);
        Assert.False(defaults.CookieSameSiteLegacyWorkaround);
        Assert.Equal(SameSiteMode.None, OAuth2Settings.From(Load("urls: {self: {issuer: https://auth.example/}}").Options).CookieSameSite);
        Assert.Equal(SameSiteMode.Lax, OAuth2Settings.From(Load("urls: {self: {issuer: https://auth.example/}}\nserve: {cookies: {same_site_mode: Lax}}").Options).CookieSameSite);

        // Dev mode: Hydra's cookieSuffix appends _dev to all four names; serve.cookies.secure sets the flag (default: not Secure).
        var dev = OAuth2Settings.From(LoadDev("serve: {cookies: {names: {session: d}}}").Options);
        Assert.Equal(("ory_hydra_login_csrf_dev", "ory_hydra_consent_csrf_dev", "ory_hydra_device_csrf_dev", "d_dev"), (dev.LoginCsrfCookie, dev.ConsentCsrfCookie, dev.DeviceCsrfCookie, dev.SessionCookie));
        Assert.False(dev.SecureCookies);
        Assert.True(OAuth2Settings.From(LoadDev("serve: {cookies: {secure: true}}").Options).SecureCookies);
        // Unset, Gatehouse's one cookie rule still applies (cookies.secure, else Secure unless --dev).
        Assert.True(OAuth2Settings.From(LoadDev("cookies: {secure: true}").Options).SecureCookies);
        Assert.False(OAuth2Settings.From(Load("cookies: {secure: false}").Options).SecureCookies);

        Assert.StartsWith("serve.cookies.same_site_mode: expected", LoadFails("serve: {cookies: {same_site_mode: sometimes}}").Message);
        Assert.StartsWith("serve.cookies.names.session: expected", LoadFails("serve: {cookies: {names: {session: ''}}}").Message);
        Assert.StartsWith("serve.cookies.paths.session: expected", LoadFails("serve: {cookies: {paths: {session: oauth2}}}").Message);
    }

    [Theory]
    [InlineData("", 0x00000000u)]
    [InlineData("hello", 0x248bfa47u)]
    [InlineData("hello, world", 0x149bbb7fu)]
    [InlineData("19 Jan 2038 at 3:14:07 AM", 0xe31e8a70u)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x2e4ff723u)]
    public void The_client_cookie_suffix_is_hydras_decimal_murmur3(string clientId, uint expected)
    {
        // Hydra client/client.go CookieSuffix: strconv.Itoa(int(murmur3.Sum32(id))); reference MurmurHash3_x86_32 vectors, seed 0.
        Assert.Equal(expected.ToString(System.Globalization.CultureInfo.InvariantCulture), Gatehouse.OAuth2.Flows.OAuth2Cookies.ClientSuffix(clientId));
    }

    [Fact]
    public void Urls_self_admin_is_accepted_without_a_warning_and_changes_no_url()
    {
        // Hydra reads urls.self.admin only for its usage telemetry (cmd/server/handler.go sqa): nothing to apply here.
        var set = Load("urls: {self: {admin: https://admin.example/}}");
        Assert.Empty(set.Warnings);
        Assert.Equal("https://admin.example/", set.Options.Urls.Self.Admin);
        var with = OAuth2Settings.From(set.Options);
        var without = OAuth2Settings.From(Load("").Options);
        Assert.Equal((without.Issuer, without.PublicUrl), (with.Issuer, with.PublicUrl));
        Assert.Equal(Load("").Options.Serve.Admin.BaseUrl, set.Options.Serve.Admin.BaseUrl);
        Assert.StartsWith("urls.self.admin: expected", LoadFails("urls: {self: {admin: not-a-url}}").Message);
    }

    [Fact]
    public void Db_ignore_unknown_table_columns_and_cgroups_auto_max_procs_are_accepted_without_a_warning()
    {
        // Hydra driver/registry_sql.go: pop's Unsafe and automaxprocs. Gatehouse behaves as with both on (docs/configuration.md).
        var set = Load("db: {ignore_unknown_table_columns: true}\ncgroups: {v1: {auto_max_procs_enabled: true}}");
        Assert.Empty(set.Warnings);
        Assert.True(set.Options.Db.IgnoreUnknownTableColumns);
        Assert.True(set.Options.Cgroups.V1.AutoMaxProcsEnabled);
        Assert.False(Load("").Options.Db.IgnoreUnknownTableColumns);
        Assert.StartsWith("db.ignore_unknown_table_columns: expected", LoadFails("db: {ignore_unknown_table_columns: sometimes}").Message);
        Assert.StartsWith("cgroups.v1.auto_max_procs_enabled: expected", LoadFails("cgroups: {v1: {auto_max_procs_enabled: 3}}").Message);
    }

    [Fact]
    public void Urls_registration_is_read_and_defaults_to_the_login_url()
    {
        var set = OAuth2Settings.From(Load("urls: {login: https://login.example/login, registration: https://login.example/registration}").Options);
        Assert.Equal("https://login.example/registration", set.EffectiveRegistrationUrl);
        Assert.Equal("https://login.example/login", OAuth2Settings.From(Load("urls: {login: https://login.example/login}").Options).EffectiveRegistrationUrl);
        Assert.StartsWith("urls.registration: expected", LoadFails("urls: {registration: not-a-url}").Message);
    }

    [Fact]
    public void Expose_internal_errors_is_read_and_off_by_default()
    {
        var on = Load("oauth2: {expose_internal_errors: true}");
        Assert.Empty(on.Warnings);
        Assert.True(OAuth2Settings.From(on.Options).ExposeInternalErrors);
        Assert.False(OAuth2Settings.From(Load("").Options).ExposeInternalErrors);
        Assert.StartsWith("oauth2.expose_internal_errors: expected", LoadFails("oauth2: {expose_internal_errors: sometimes}").Message);
    }

    [Theory]
    [InlineData("oauth2: {grant: {refresh_token: {rotation_grace_period: -1s}}}", "oauth2.grant.refresh_token.rotation_grace_period: expected a duration")]
    [InlineData("oauth2: {grant: {refresh_token: {rotation_grace_period: soon}}}", "oauth2.grant.refresh_token.rotation_grace_period: expected a duration")]
    [InlineData("oauth2: {grant: {refresh_token: {rotation_grace_reuse_count: -1}}}", "oauth2.grant.refresh_token.rotation_grace_reuse_count: expected an integer of at least 0, got -1")]
    [InlineData("oauth2: {grant: {refresh_token: {rotation_grace_reuse_count: two}}}", "oauth2.grant.refresh_token.rotation_grace_reuse_count: expected an integer")]
    public void Bad_grace_values_stop_the_start_naming_the_key(string yaml, string expected)
    {
        var ex = LoadFails(yaml);
        Assert.StartsWith(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_grace_period_above_the_maximum_is_clamped_as_hydra_does_with_a_warning()
    {
        // driver/config/provider.go GracefulRefreshTokenRotation: at most 5 minutes, or 180 days with a reuse count.
        var noCount = Load("oauth2: {grant: {refresh_token: {rotation_grace_period: 10m}}}");
        Assert.Equal(TimeSpan.FromMinutes(5), OAuth2Settings.From(noCount.Options).RefreshTokenRotationGracePeriod);
        Assert.Equal("oauth2.grant.refresh_token.rotation_grace_period: 10m is above the maximum of 5m without a rotation_grace_reuse_count (up to 180 days with one); using 5m", Assert.Single(noCount.Warnings));

        var withCount = Load("oauth2: {grant: {refresh_token: {rotation_grace_period: 5000h, rotation_grace_reuse_count: 2}}}");
        Assert.Equal(TimeSpan.FromDays(180), OAuth2Settings.From(withCount.Options).RefreshTokenRotationGracePeriod);
        Assert.Equal("oauth2.grant.refresh_token.rotation_grace_period: 5000h is above the maximum of 180 days (4320h); using 4320h", Assert.Single(withCount.Warnings));

        var atMaximum = Load("oauth2: {grant: {refresh_token: {rotation_grace_period: 4320h, rotation_grace_reuse_count: 1}}}");
        Assert.Empty(atMaximum.Warnings);
        Assert.Equal(TimeSpan.FromDays(180), OAuth2Settings.From(atMaximum.Options).RefreshTokenRotationGracePeriod);
    }

    [Theory]
    [InlineData("ttl: {refresh_token: -1}")]
    [InlineData("ttl: {refresh_token: '-1'}")]
    public void Ttl_refresh_token_minus_one_means_refresh_tokens_never_expire(string yaml)
    {
        var result = Load(yaml);
        Assert.Empty(result.Warnings);
        Assert.Equal(RefreshTokenLifespanJsonConverter.Never, result.Options.Ttl.RefreshToken);
        Assert.True(OAuth2Settings.From(result.Options).RefreshTokenLifespan < TimeSpan.Zero);
        Assert.Equal(TimeSpan.FromHours(2), Load("ttl: {refresh_token: 2h}").Options.Ttl.RefreshToken);
        Assert.Equal(TimeSpan.FromHours(720), Load("").Options.Ttl.RefreshToken);
    }

    [Theory]
    [InlineData("ttl: {refresh_token: -2}")]
    [InlineData("ttl: {refresh_token: '-1h'}")]
    [InlineData("ttl: {refresh_token: 0.5}")]
    [InlineData("ttl: {refresh_token: forever}")]
    public void Other_negative_or_malformed_refresh_token_ttls_stop_the_start(string yaml)
    {
        var ex = LoadFails(yaml);
        Assert.StartsWith("ttl.refresh_token: ", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("jwks_url")]
    [InlineData("token_url")]
    [InlineData("auth_url")]
    [InlineData("device_authorization_url")]
    [InlineData("client_registration_url")]
    [InlineData("userinfo_url")]
    public void A_discovery_url_that_is_not_an_absolute_url_stops_the_start(string key)
    {
        foreach (var bad in new[] { "not a url", "/oauth2/token" })
        {
            var ex = LoadFails($"webfinger: {{oidc_discovery: {{{key}: '{bad}'}}}}");
            Assert.StartsWith($"webfinger.oidc_discovery.{key}: expected an absolute URL such as \"https://example.com/\", got \"{bad}\"", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_webfinger_keys_are_read_and_the_token_url_is_an_accepted_assertion_audience()
    {
        var result = Load("""
            webfinger:
              jwks: {broadcast_keys: [custom.set]}
              oidc_discovery:
                token_url: https://gw.example/oauth2/token
                supported_claims: [email]
                supported_scope: [photos.read]
            """);
        Assert.Empty(result.Warnings);
        var settings = OAuth2Settings.From(result.Options);
        Assert.Equal(["custom.set"], settings.BroadcastKeys);
        Assert.Equal(["email"], settings.Discovery.SupportedClaims);
        Assert.Equal(["photos.read"], settings.Discovery.SupportedScope);
        // fositex/config.go GetTokenURLs: the configured token URL and the public URL's /oauth2/token.
        Assert.Equal("https://gw.example/oauth2/token", settings.TokenUrls[0]);
        Assert.Contains(settings.Endpoint("/oauth2/token"), settings.TokenUrls);
        Assert.Equal(["hydra.openid.id-token"], OAuth2Settings.From(Load("").Options).BroadcastKeys);
    }
}
