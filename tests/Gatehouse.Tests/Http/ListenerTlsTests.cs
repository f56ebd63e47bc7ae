using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.Tests.Config;
using Gatehouse.Tests.Hooks;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Http;

/// <summary>
/// <c>serve.public.tls</c> / <c>serve.admin.tls</c>: HTTPS on the listeners as Kratos serves it (ory/x
/// <c>configx.TLS.GetCertFunc</c>): a base64 pair or a path pair (re-read when the files change), TLS 1.2 at least.
/// </summary>
public sealed class ListenerTlsTests : IDisposable
{
    private const string Secret = "a-cookie-secret-of-32-characters";
    private readonly ConfigFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Both_listeners_serve_https_with_the_configured_certificates(string db)
    {
        using var publicCert = SelfSigned("public.gatehouse.test");
        using var adminCert = SelfSigned("admin.gatehouse.test");
        var certDir = _files.Folder;
        File.WriteAllText(Path.Combine(certDir, "admin.crt"), publicPem(adminCert).Cert);
        File.WriteAllText(Path.Combine(certDir, "admin.key"), publicPem(adminCert).Key);
        static (string Cert, string Key) publicPem(X509Certificate2 c) => (c.ExportCertificatePem(), c.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());

        await using var server = await TestServer.StartAsync(db, o =>
        {
            var (cert, key) = publicPem(publicCert);
            o.Serve.Public.Tls.Cert.Base64 = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(cert));
            o.Serve.Public.Tls.Key.Base64 = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(key));
            o.Serve.Admin.Tls.Cert.Path = Path.Combine(certDir, "admin.crt");
            o.Serve.Admin.Tls.Key.Path = Path.Combine(certDir, "admin.key");
        });

        var (publicClient, publicSeen) = PinnedClient(publicCert);
        using (publicClient)
        {
            using var alive = await publicClient.GetAsync(new Uri($"https://127.0.0.1:{server.Options.Serve.Public.Port}/health/alive"));
            Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
            Assert.Equal(publicCert.Thumbprint, publicSeen());

            // Go's server offers HTTP/2 over TLS; so does Gatehouse.
            using var h2 = new HttpRequestMessage(HttpMethod.Get, $"https://127.0.0.1:{server.Options.Serve.Public.Port}/health/ready")
            {
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            using var h2Answer = await publicClient.SendAsync(h2);
            Assert.Equal(HttpStatusCode.OK, h2Answer.StatusCode);
            Assert.Equal(HttpVersion.Version20, h2Answer.Version);
        }

        var (adminClient, adminSeen) = PinnedClient(adminCert);
        using (adminClient)
        {
            adminClient.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", server.ApiKey);
            using var identities = await adminClient.GetAsync(new Uri($"https://127.0.0.1:{server.Options.Serve.Admin.Port}/admin/identities"));
            Assert.Equal(HttpStatusCode.OK, identities.StatusCode);
            Assert.Equal(adminCert.Thumbprint, adminSeen());
        }

        // Plain HTTP on a TLS port gets no answer from the application.
        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetAsync(new Uri($"http://127.0.0.1:{server.Options.Serve.Public.Port}/health/alive")));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Serve_tls_is_hydras_https_for_both_listeners_unless_a_listener_sets_its_own(string db)
    {
        // Hydra driver/config/serve.go: serve.tls is the default of serve.public.tls and serve.admin.tls.
        using var sharedCert = SelfSigned("shared.gatehouse.test");
        using var adminCert = SelfSigned("admin.gatehouse.test");
        await using var server = await TestServer.StartAsync(db, o =>
        {
            var shared = Base64Pair(sharedCert);
            o.Serve.Tls.Enabled = true;
            o.Serve.Tls.Cert = shared.Cert;
            o.Serve.Tls.Key = shared.Key;
            o.Serve.Tls.AllowTerminationFrom = ["10.0.0.0/8"];
        });
        var (client, seen) = PinnedClient(sharedCert);
        using (client)
        {
            using var alive = await client.GetAsync(new Uri($"https://127.0.0.1:{server.Options.Serve.Public.Port}/health/alive"));
            Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
            Assert.Equal(sharedCert.Thumbprint, seen());
            using var adminAlive = await client.GetAsync(new Uri($"https://127.0.0.1:{server.Options.Serve.Admin.Port}/health/alive"));
            Assert.Equal(HttpStatusCode.OK, adminAlive.StatusCode);
            Assert.Equal(sharedCert.Thumbprint, seen());
        }

        // A listener's own tls keys win; the other listener keeps serve.tls.
        await using var mixed = await TestServer.StartAsync(db, o =>
        {
            var shared = Base64Pair(sharedCert);
            o.Serve.Tls.Enabled = true;
            o.Serve.Tls.Cert = shared.Cert;
            o.Serve.Tls.Key = shared.Key;
            o.Serve.Admin.Tls = Base64Pair(adminCert);
        });
        var (adminClient, adminSeen) = PinnedClient(adminCert);
        using (adminClient)
        {
            using var adminAlive = await adminClient.GetAsync(new Uri($"https://127.0.0.1:{mixed.Options.Serve.Admin.Port}/health/alive"));
            Assert.Equal(HttpStatusCode.OK, adminAlive.StatusCode);
            Assert.Equal(adminCert.Thumbprint, adminSeen());
        }
        var (publicClient, publicSeen) = PinnedClient(sharedCert);
        using (publicClient)
        {
            using var alive = await publicClient.GetAsync(new Uri($"https://127.0.0.1:{mixed.Options.Serve.Public.Port}/health/alive"));
            Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
            Assert.Equal(sharedCert.Thumbprint, publicSeen());
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Serve_tls_enabled_without_a_certificate_serves_a_self_signed_one_as_hydra(string db)
    {
        // Hydra cmd/server/helper_cert.go GetOrCreateTLSCertificate + ory/x tlsx.CreateSelfSignedCertificate.
        await using var server = await TestServer.StartAsync(db, o => o.Serve.Tls.Enabled = true);
        X509Certificate2? presented = null;
        using var client = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new System.Net.Security.SslClientAuthenticationOptions
            {
                AllowTlsResume = false,
                RemoteCertificateValidationCallback = (_, cert, _, _) =>
                {
                    presented = cert is null ? null : new X509Certificate2(cert);
                    return true;
                },
            },
        }) { Timeout = TimeSpan.FromSeconds(30) };
        foreach (var port in new[] { server.Options.Serve.Public.Port, server.Options.Serve.Admin.Port })
        {
            presented = null;
            using var alive = await client.GetAsync(new Uri($"https://127.0.0.1:{port}/health/alive"));
            Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
            Assert.NotNull(presented);
            Assert.Equal("CN=ORY, O=ORY GmbH", presented.Subject);
            Assert.Equal(presented.Subject, presented.Issuer);
            Assert.Contains("localhost", presented.GetNameInfo(X509NameType.DnsName, forIssuer: false));
            Assert.InRange(presented.NotAfter.ToUniversalTime() - presented.NotBefore.ToUniversalTime(), TimeSpan.FromDays(31) - TimeSpan.FromMinutes(1), TimeSpan.FromDays(31) + TimeSpan.FromMinutes(1));
        }
        // Plain HTTP on a TLS port gets no answer from the application.
        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetAsync(new Uri($"http://127.0.0.1:{server.Options.Serve.Public.Port}/health/alive")));
    }

    [Fact]
    public void Serve_tls_is_off_until_enabled_and_its_keys_are_checked_when_loading()
    {
        using var cert = SelfSigned("shared.gatehouse.test");
        var pair = Base64Pair(cert);
        ConfigLoadResult Load(string serve) => ConfigLoader.Load(
            [_files.Write("tls.yml", $"dsn: memory\nsecrets: {{default: [{Secret}]}}\nserve: {serve}\n")], new Dictionary<string, string?>(), dev: false);

        // A certificate without enabled: true is plain HTTP, as Hydra (configx TLS.Enabled defaults to false).
        var off = Load($"{{tls: {{cert: {{base64: {pair.Cert.Base64}}}, key: {{base64: {pair.Key.Base64}}}}}}}");
        Assert.Empty(off.Warnings);
        Assert.StartsWith("http://", off.Options.Serve.Public.BaseUrl);
        Assert.Null(ListenerTls.For(off.Options.Serve, off.Options.Serve.Public, "serve.public", TimeProvider.System));

        var on = Load($"{{tls: {{enabled: true, allow_termination_from: [127.0.0.1/32, 10.1.2.3/8, '::1/128'], cert: {{base64: {pair.Cert.Base64}}}, key: {{base64: {pair.Key.Base64}}}}}}}");
        Assert.Empty(on.Warnings);
        Assert.StartsWith("https://", on.Options.Serve.Public.BaseUrl);
        Assert.StartsWith("https://", on.Options.Serve.Admin.BaseUrl);
        Assert.Equal(cert.Thumbprint, ListenerTls.For(on.Options.Serve, on.Options.Serve.Admin, "serve.admin", TimeProvider.System)!.Certificate.Thumbprint);

        Assert.Equal("serve.tls.cert.base64: unable to base64 decode the TLS certificate",
            Assert.Throws<ConfigException>(() => Load($"{{tls: {{enabled: true, cert: {{base64: '%%%'}}, key: {{base64: {pair.Key.Base64}}}}}}}")).Message);
        Assert.Equal("serve.tls: set both cert.base64 and key.base64, or both cert.path and key.path",
            Assert.Throws<ConfigException>(() => Load("{tls: {enabled: true, cert: {path: /etc/tls/cert.pem}}}")).Message);
        Assert.Equal("serve.tls.allow_termination_from[0]: \"10.0.0.0\" is not a CIDR address range (e.g. 10.0.0.0/8)",
            Assert.Throws<ConfigException>(() => Load("{tls: {enabled: true, allow_termination_from: [10.0.0.0]}}")).Message);
    }

    [Fact]
    public void Tls_1_0_and_1_1_are_not_offered()
    {
        using var cert = SelfSigned("gatehouse.test");
        var tls = From(Base64Pair(cert))!;
        var options = tls.ServerOptions();
        Assert.Equal(System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13, options.EnabledSslProtocols);
        Assert.Equal(cert.Thumbprint, options.ServerCertificateContext!.TargetCertificate.Thumbprint);
    }

    [Fact]
    public void Nothing_set_is_plain_http()
    {
        Assert.Null(From(new TlsOptions()));
        Assert.Null(From(null));
    }

    [Theory]
    [InlineData("cert.base64")]
    [InlineData("key.base64")]
    [InlineData("cert.path")]
    [InlineData("key.path")]
    public void Half_a_pair_is_refused_rather_than_served_unencrypted(string only)
    {
        var tls = new TlsOptions();
        switch (only)
        {
            case "cert.base64": tls.Cert.Base64 = "Zm9v"; break;
            case "key.base64": tls.Key.Base64 = "Zm9v"; break;
            case "cert.path": tls.Cert.Path = "/etc/tls/cert.pem"; break;
            default: tls.Key.Path = "/etc/tls/key.pem"; break;
        }
        var e = Assert.Throws<ConfigException>(() => From(tls));
        Assert.Equal("serve.public.tls: set both cert.base64 and key.base64, or both cert.path and key.path", e.Message);
    }

    [Fact]
    public void The_base64_pair_wins_over_the_path_pair_as_in_Kratos()
    {
        using var cert = SelfSigned("inline.gatehouse.test");
        var tls = Base64Pair(cert);
        tls.Cert.Path = "/nonexistent/cert.pem";
        tls.Key.Path = "/nonexistent/key.pem";
        Assert.Equal(cert.Thumbprint, From(tls)!.Certificate.Thumbprint);
    }

    [Fact]
    public void Bad_material_names_the_key_and_the_reason()
    {
        using var cert = SelfSigned("a.gatehouse.test");
        using var other = SelfSigned("b.gatehouse.test");

        var notBase64 = Base64Pair(cert);
        notBase64.Cert.Base64 = "not base64!";
        Assert.Equal("serve.public.tls.cert.base64: unable to base64 decode the TLS certificate", Assert.Throws<ConfigException>(() => From(notBase64)).Message);

        var mismatched = Base64Pair(cert);
        mismatched.Key.Base64 = Base64Pair(other).Key.Base64;
        Assert.StartsWith("serve.public.tls: unable to load X509 key pair: ", Assert.Throws<ConfigException>(() => From(mismatched)).Message);

        var noCertificate = Base64Pair(cert);
        noCertificate.Cert.Base64 = Convert.ToBase64String("hello"u8.ToArray());
        Assert.StartsWith("serve.public.tls: unable to load X509 key pair: ", Assert.Throws<ConfigException>(() => From(noCertificate)).Message);

        var missing = new TlsOptions();
        missing.Cert.Path = Path.Combine(_files.Folder, "missing.crt");
        missing.Key.Path = Path.Combine(_files.Folder, "missing.key");
        Assert.StartsWith("serve.public.tls: unable to load X509 key pair from files: ", Assert.Throws<ConfigException>(() => From(missing)).Message);
    }

    [Fact]
    public void Changed_files_are_read_again_and_a_broken_reload_keeps_the_previous_certificate()
    {
        using var first = SelfSigned("first.gatehouse.test");
        using var second = SelfSigned("second.gatehouse.test");
        var certPath = Path.Combine(_files.Folder, "tls.crt");
        var keyPath = Path.Combine(_files.Folder, "tls.key");
        WritePair(first, certPath, keyPath, DateTime.UtcNow.AddMinutes(-10));
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var tls = ListenerTls.From(new TlsOptions { Cert = new() { Path = certPath }, Key = new() { Path = keyPath } }, "serve.public", clock)!;
        var logs = new LogCapture();
        tls.Logger = logs.CreateLogger("tls");
        Assert.Equal(first.Thumbprint, tls.Current().TargetCertificate.Thumbprint);

        WritePair(second, certPath, keyPath, DateTime.UtcNow.AddMinutes(-5));
        // The files are looked at once a second at most.
        Assert.Equal(first.Thumbprint, tls.Current().TargetCertificate.Thumbprint);
        clock.Advance(ListenerTls.ReloadCheckInterval);
        Assert.Equal(second.Thumbprint, tls.Current().TargetCertificate.Thumbprint);
        Assert.Equal(second.Thumbprint, tls.Certificate.Thumbprint);

        File.WriteAllText(certPath, "-----BEGIN CERTIFICATE-----\ntruncated\n");
        File.SetLastWriteTimeUtc(certPath, DateTime.UtcNow.AddMinutes(-1));
        clock.Advance(ListenerTls.ReloadCheckInterval);
        Assert.Equal(second.Thumbprint, tls.Current().TargetCertificate.Thumbprint);
        clock.Advance(ListenerTls.ReloadCheckInterval);
        Assert.Equal(second.Thumbprint, tls.Current().TargetCertificate.Thumbprint);
        var errors = logs.Lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal)).ToList();
        Assert.Single(errors); // reported once, not on every handshake
        Assert.Contains("Failed to reload TLS certificates, using previous certificates", errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void The_chain_after_the_leaf_is_sent_with_it()
    {
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootRequest = new CertificateRequest("CN=Gatehouse Test Root", rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var root = rootRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Gatehouse Test Intermediate", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var caPublic = caRequest.Create(root, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(20), [5, 6, 7, 8]);
        using var ca = caPublic.CopyWithPrivateKey(caKey);
        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leafRequest = new CertificateRequest("CN=leaf.gatehouse.test", leafKey, HashAlgorithmName.SHA256);
        using var leaf = leafRequest.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10), [1, 2, 3, 4]);

        // The usual fullchain.pem: leaf, then the intermediate (the self-signed root is never sent).
        var tls = new TlsOptions();
        tls.Cert.Base64 = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(leaf.ExportCertificatePem() + "\n" + ca.ExportCertificatePem()));
        tls.Key.Base64 = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(leafKey.ExportPkcs8PrivateKeyPem()));
        var context = From(tls)!.Current();
        Assert.Equal(leaf.Thumbprint, context.TargetCertificate.Thumbprint);
        Assert.Equal(ca.Thumbprint, Assert.Single(context.IntermediateCertificates).Thumbprint);
    }

    [Fact]
    public void The_config_file_keys_switch_the_default_base_url_to_https()
    {
        using var cert = SelfSigned("gatehouse.test");
        var pair = Base64Pair(cert);
        var file = _files.Write("tls.yml", $"""
            dsn: memory
            secrets:
              default: [{Secret}]
            serve:
              public:
                tls:
                  cert:
                    base64: {pair.Cert.Base64}
                  key:
                    base64: {pair.Key.Base64}
            """);
        var result = ConfigLoader.Load([file], new Dictionary<string, string?>(), dev: false);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("tls", StringComparison.Ordinal));
        Assert.Equal("https://127.0.0.1:4433/", result.Options.Serve.Public.BaseUrl);
        Assert.Equal("http://127.0.0.1:4434/", result.Options.Serve.Admin.BaseUrl);
    }

    [Fact]
    public void The_environment_sets_the_paths_as_Kratos_documents()
    {
        using var cert = SelfSigned("gatehouse.test");
        var certPath = Path.Combine(_files.Folder, "env.crt");
        var keyPath = Path.Combine(_files.Folder, "env.key");
        WritePair(cert, certPath, keyPath, DateTime.UtcNow);
        var file = _files.Write("env.yml", $"dsn: memory\nsecrets:\n  default: [{Secret}]\n");
        var result = ConfigLoader.Load([file], new Dictionary<string, string?>
        {
            ["SERVE_ADMIN_TLS_CERT_PATH"] = certPath,
            ["SERVE_ADMIN_TLS_KEY_PATH"] = keyPath,
        }, dev: false);
        Assert.Equal(certPath, result.Options.Serve.Admin.Tls.Cert.Path);
        Assert.Equal("https://127.0.0.1:4434/", result.Options.Serve.Admin.BaseUrl);

        var half = ConfigLoaderFails(file, new() { ["SERVE_ADMIN_TLS_CERT_PATH"] = certPath });
        Assert.Equal("serve.admin.tls: set both cert.base64 and key.base64, or both cert.path and key.path", half.Message);
    }

    [Fact]
    public void Admin_tls_on_the_public_port_is_refused()
    {
        using var cert = SelfSigned("gatehouse.test");
        var pair = Base64Pair(cert);
        var file = _files.Write("shared.yml", $"""
            dsn: memory
            secrets:
              default: [{Secret}]
            serve:
              public:
                port: 4455
              admin:
                port: 4455
                tls:
                  cert:
                    base64: {pair.Cert.Base64}
                  key:
                    base64: {pair.Key.Base64}
            """);
        var e = ConfigLoaderFails(file, []);
        Assert.Equal("serve.admin.tls: the admin listener shares serve.public.port, so it is served with serve.public.tls; set TLS there", e.Message);
    }

    private static ConfigException ConfigLoaderFails(string file, Dictionary<string, string?> environment) =>
        Assert.Throws<ConfigException>(() => ConfigLoader.Load([file], environment, dev: false));

    private static ListenerTls? From(TlsOptions? tls) => ListenerTls.From(tls, "serve.public", TimeProvider.System);

    private static TlsOptions Base64Pair(X509Certificate2 cert)
    {
        var tls = new TlsOptions();
        tls.Cert.Base64 = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(cert.ExportCertificatePem()));
        tls.Key.Base64 = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(cert.GetECDsaPrivateKey()!.ExportECPrivateKeyPem()));
        return tls;
    }

    private static void WritePair(X509Certificate2 cert, string certPath, string keyPath, DateTime stamp)
    {
        File.WriteAllText(certPath, cert.ExportCertificatePem());
        File.WriteAllText(keyPath, cert.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        File.SetLastWriteTimeUtc(certPath, stamp);
        File.SetLastWriteTimeUtc(keyPath, stamp);
    }

    private static X509Certificate2 SelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    /// <summary>
    /// A client that reports the thumbprint the server presented; the tests assert it is <paramref name="expected"/>, so
    /// a wrong certificate fails with both thumbprints rather than as a refused handshake.
    /// </summary>
    private static (HttpClient Client, Func<string?> Seen) PinnedClient(X509Certificate2 expected)
    {
        string? seen = null;
        var handler = new SocketsHttpHandler
        {
            SslOptions = new System.Net.Security.SslClientAuthenticationOptions
            {
                // Every handshake a full one: these tests ask which certificate a listener presents. .NET keeps TLS
                // sessions per host name, not per port, and every test server in this process is 127.0.0.1.
                AllowTlsResume = false,
                RemoteCertificateValidationCallback = (_, presented, _, _) =>
                {
                    seen = presented is null ? null : new X509Certificate2(presented).Thumbprint;
                    return seen is not null;
                },
            },
        };
        return (new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) }, () => seen);
    }
}
