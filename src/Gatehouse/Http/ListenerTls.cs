using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Config;

namespace Gatehouse.Http;

/// <summary>
/// HTTPS on a listener (<c>serve.public.tls</c> / <c>serve.admin.tls</c>), as Kratos serves it (ory/x
/// <c>configx.TLS.GetCertFunc</c>, <c>tlsx</c>): a certificate and key given inline as base64 of their PEM files (read
/// once), or as paths to PEM files, which are read again when they change so a renewed certificate is picked up without a
/// restart (Kratos watches the certificate file; a reload that fails is logged and the previous certificate kept). The
/// base64 pair wins when both pairs are set, as in Kratos. TLS 1.2 is the minimum, as Kratos's <c>tls.Config</c>.
/// The certificate file may hold the chain after the leaf; the intermediates are sent with it.
/// </summary>
public sealed class ListenerTls
{
    /// <summary>How often, at most, a handshake looks at the files' modification times.</summary>
    public static readonly TimeSpan ReloadCheckInterval = TimeSpan.FromSeconds(1);

    private readonly string _name;
    private readonly string? _certPath;
    private readonly string? _keyPath;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private SslStreamCertificateContext _current;
    private (DateTime Cert, long CertLength, DateTime Key, long KeyLength) _stamp;
    private long _nextCheck;
    private string? _lastReportedError;

    private ListenerTls(string name, SslStreamCertificateContext current, string? certPath, string? keyPath, TimeProvider time)
    {
        _name = name;
        _current = current;
        _certPath = certPath;
        _keyPath = keyPath;
        _time = time;
        if (certPath is not null) _stamp = Stamp(certPath, keyPath!);
        _nextCheck = time.GetTimestamp() + Ticks(ReloadCheckInterval);
    }

    /// <summary>Where reload failures are reported; set once the application's logging is up.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>The certificate being served now (its leaf).</summary>
    public X509Certificate2 Certificate => Volatile.Read(ref _current).TargetCertificate;

    /// <summary>
    /// The listener's TLS, or null when none of its <c>tls</c> keys is set.
    /// </summary>
    /// <param name="name">The listener's config path, e.g. <c>serve.public</c>, for error messages.</param>
    /// <exception cref="ConfigException">Only part of a pair is set, or the certificate or key cannot be read or do not match.</exception>
    public static ListenerTls? From(TlsOptions? tls, string name, TimeProvider time)
    {
        if (tls is null) return null;
        var certBase64 = tls.Cert.Base64;
        var keyBase64 = tls.Key.Base64;
        var certPath = tls.Cert.Path;
        var keyPath = tls.Key.Path;
        if (!string.IsNullOrEmpty(certBase64) && !string.IsNullOrEmpty(keyBase64))
        {
            var certPem = DecodeBase64(certBase64, $"{name}.tls.cert.base64", "certificate");
            var keyPem = DecodeBase64(keyBase64, $"{name}.tls.key.base64", "private key");
            return new ListenerTls(name, Load(certPem, keyPem, $"{name}.tls"), null, null, time);
        }
        if (!string.IsNullOrEmpty(certPath) && !string.IsNullOrEmpty(keyPath))
        {
            return new ListenerTls(name, LoadFiles(certPath, keyPath, $"{name}.tls"), certPath, keyPath, time);
        }
        if (!string.IsNullOrEmpty(certBase64) || !string.IsNullOrEmpty(keyBase64) || !string.IsNullOrEmpty(certPath) || !string.IsNullOrEmpty(keyPath))
        {
            // Kratos serves plain HTTP when the pairs are incomplete; a listener its operator meant to encrypt does not
            // silently start unencrypted here.
            throw new ConfigException($"{name}.tls: set both cert.base64 and key.base64, or both cert.path and key.path");
        }
        return null;
    }

    /// <summary>
    /// A listener's TLS with Hydra's shared <c>serve.tls</c> (<c>driver/config/serve.go</c>: each listener defaults to it):
    /// the listener's own <c>tls</c> keys when any is set (Kratos's, as before); else, when <c>serve.tls.enabled</c>,
    /// <c>serve.tls</c>'s certificate, or — none configured — a self-signed one, as Hydra's
    /// <c>cmd/server/helper_cert.go</c> <c>GetOrCreateTLSCertificate</c>; else none (plain HTTP: Hydra ignores a
    /// <c>serve.tls</c> certificate while <c>enabled</c> is false).
    /// </summary>
    /// <param name="name">The listener's config path, e.g. <c>serve.public</c>.</param>
    public static ListenerTls? For(ServeOptions serve, ListenerOptions listener, string name, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(serve);
        ArgumentNullException.ThrowIfNull(listener);
        if (listener.Tls.Configured) return From(listener.Tls, name, time);
        if (!serve.Tls.Enabled) return null;
        return From(new TlsOptions { Cert = serve.Tls.Cert, Key = serve.Tls.Key }, "serve", time)
            ?? new ListenerTls(name, SslStreamCertificateContext.Create(SelfSigned(time), null, offline: true), null, null, time);
    }

    /// <summary>Whether <see cref="For"/> gives the listener TLS (without reading any certificate).</summary>
    public static bool Enabled(ServeOptions serve, ListenerOptions listener) => listener.Tls.Configured || serve.Tls.Enabled;

    /// <summary>
    /// Hydra's self-signed certificate (ory/x <c>tlsx.CreateSelfSignedCertificate</c>): <c>O=ORY GmbH, CN=ORY</c> (encoded in that order, as Go does), a CA,
    /// for <c>localhost</c>, server and client authentication, valid 31 days. Hydra keeps its key in the JWK set
    /// <c>hydra.https-tls</c>; Gatehouse makes a new one at each start (nothing can pin a certificate that is self-signed
    /// anyway, and the key never leaves the process).
    /// </summary>
    internal static X509Certificate2 SelfSigned(TimeProvider time)
    {
        using var key = RSA.Create(2048);
        var subject = new X500DistinguishedName("CN=ORY, O=ORY GmbH");
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        var now = time.GetUtcNow();
        return request.CreateSelfSigned(now, now.AddDays(31));
    }

    /// <summary>The handshake's options: the current certificate (re-read first if its files changed), TLS 1.2 or 1.3, HTTP/2 or HTTP/1.1.</summary>
    public SslServerAuthenticationOptions ServerOptions() => new()
    {
        ServerCertificateContext = Current(),
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
    };

    /// <summary>The certificate to present, reloaded from its files when their modification time or size changed.</summary>
    public SslStreamCertificateContext Current()
    {
        if (_certPath is null) return Volatile.Read(ref _current);
        var now = _time.GetTimestamp();
        if (now < Volatile.Read(ref _nextCheck)) return Volatile.Read(ref _current);
        lock (_gate)
        {
            if (now < _nextCheck) return _current;
            _nextCheck = now + Ticks(ReloadCheckInterval);
            try
            {
                var stamp = Stamp(_certPath, _keyPath!);
                if (stamp == _stamp) return _current;
                Volatile.Write(ref _current, LoadFiles(_certPath, _keyPath!, $"{_name}.tls"));
                _stamp = stamp;
                _lastReportedError = null;
                Logger?.LogInformation("Reloaded the TLS certificate of {Listener} from {Path}", _name, _certPath);
            }
            catch (Exception e) when (e is ConfigException or IOException or UnauthorizedAccessException)
            {
                // As Kratos: keep serving the previous certificate, and report each new failure once.
                if (e.Message != _lastReportedError)
                {
                    _lastReportedError = e.Message;
                    Logger?.LogError("Failed to reload TLS certificates, using previous certificates: {Reason}", e.Message);
                }
            }
            return _current;
        }
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    private static (DateTime, long, DateTime, long) Stamp(string certPath, string keyPath)
    {
        var cert = new FileInfo(certPath);
        var key = new FileInfo(keyPath);
        return (cert.LastWriteTimeUtc, cert.Exists ? cert.Length : -1, key.LastWriteTimeUtc, key.Exists ? key.Length : -1);
    }

    private static string DecodeBase64(string value, string path, string what)
    {
        try
        {
            return System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(value));
        }
        catch (FormatException)
        {
            throw new ConfigException($"{path}: unable to base64 decode the TLS {what}");
        }
    }

    private static SslStreamCertificateContext LoadFiles(string certPath, string keyPath, string path)
    {
        string certPem, keyPem;
        try
        {
            certPem = File.ReadAllText(certPath);
            keyPem = File.ReadAllText(keyPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{path}: unable to load X509 key pair from files: {e.Message}");
        }
        return Load(certPem, keyPem, path);
    }

    private static SslStreamCertificateContext Load(string certPem, string keyPem, string path)
    {
        X509Certificate2 leaf;
        var chain = new X509Certificate2Collection();
        try
        {
            chain.ImportFromPem(certPem);
            if (chain.Count == 0) throw new CryptographicException("no certificate found in the PEM data");
            leaf = X509Certificate2.CreateFromPem(certPem, keyPem);
        }
        catch (CryptographicException e)
        {
            throw new ConfigException($"{path}: unable to load X509 key pair: {e.Message}");
        }
        catch (ArgumentException e)
        {
            throw new ConfigException($"{path}: unable to load X509 key pair: {e.Message}");
        }
        var intermediates = new X509Certificate2Collection();
        for (var i = 1; i < chain.Count; i++) intermediates.Add(chain[i]);
        return SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
    }
}
