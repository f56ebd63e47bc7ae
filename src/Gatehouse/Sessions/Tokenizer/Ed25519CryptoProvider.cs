using Microsoft.IdentityModel.Tokens;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Gatehouse.Sessions.Tokenizer;

/// <summary>
/// An Ed25519 key (JWK <c>kty: OKP</c>, <c>crv: Ed25519</c>). .NET has no Ed25519, and Microsoft.IdentityModel no
/// EdDSA; Kratos signs with such keys (<c>alg: EdDSA</c>), so Gatehouse plugs BouncyCastle's Ed25519 into
/// Microsoft.IdentityModel's provider extension point (<see cref="Ed25519CryptoProvider"/>).
/// </summary>
public sealed class Ed25519SecurityKey : SecurityKey
{
    public Ed25519SecurityKey(byte[] publicKey, byte[]? privateKey)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        PublicKey = new Ed25519PublicKeyParameters(publicKey);
        if (privateKey is not null)
        {
            PrivateKey = new Ed25519PrivateKeyParameters(privateKey);
            // A private key that does not belong to the public key would sign tokens nobody can verify.
            if (!PrivateKey.GeneratePublicKey().GetEncoded().AsSpan().SequenceEqual(publicKey))
                throw new ArgumentException("the Ed25519 private key does not match its public key", nameof(privateKey));
        }
    }

    public Ed25519PublicKeyParameters PublicKey { get; }
    public Ed25519PrivateKeyParameters? PrivateKey { get; }
    public bool HasPrivateKey => PrivateKey is not null;
    public override int KeySize => 256;
}

/// <summary>Creates <see cref="Ed25519SignatureProvider"/>s for <c>EdDSA</c> with an <see cref="Ed25519SecurityKey"/>.</summary>
public sealed class Ed25519CryptoProvider : ICryptoProvider
{
    public const string Algorithm = "EdDSA";

    /// <summary>A provider factory that knows EdDSA (and everything the default one knows); signature providers are not cached.</summary>
    public static CryptoProviderFactory Factory { get; } = new() { CustomCryptoProvider = new Ed25519CryptoProvider(), CacheSignatureProviders = false };

    public bool IsSupportedAlgorithm(string algorithm, params object[] args) =>
        algorithm == Algorithm && args is [Ed25519SecurityKey, ..];

    public object Create(string algorithm, params object[] args)
    {
        if (!IsSupportedAlgorithm(algorithm, args)) throw new NotSupportedException($"{algorithm} is not supported by {nameof(Ed25519CryptoProvider)}");
        return new Ed25519SignatureProvider((Ed25519SecurityKey)args[0]);
    }

    public void Release(object cryptoInstance) => (cryptoInstance as IDisposable)?.Dispose();
}

/// <summary>Signs and verifies with BouncyCastle's Ed25519 (RFC 8032, pure Ed25519 as JWS EdDSA requires, RFC 8037).</summary>
public sealed class Ed25519SignatureProvider(Ed25519SecurityKey key) : SignatureProvider(key, Ed25519CryptoProvider.Algorithm)
{
    public override byte[] Sign(byte[] input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var privateKey = key.PrivateKey ?? throw new InvalidOperationException("an Ed25519 public key cannot sign");
        var signer = new Ed25519Signer();
        signer.Init(true, privateKey);
        signer.BlockUpdate(input, 0, input.Length);
        return signer.GenerateSignature();
    }

    public override bool Sign(ReadOnlySpan<byte> data, Span<byte> destination, out int bytesWritten)
    {
        var signature = Sign(data.ToArray());
        bytesWritten = 0;
        if (signature.Length > destination.Length) return false;
        signature.CopyTo(destination);
        bytesWritten = signature.Length;
        return true;
    }

    public override bool Verify(byte[] input, byte[] signature)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(signature);
        var verifier = new Ed25519Signer();
        verifier.Init(false, key.PublicKey);
        verifier.BlockUpdate(input, 0, input.Length);
        return verifier.VerifySignature(signature);
    }

    public override bool Verify(byte[] input, int inputOffset, int inputLength, byte[] signature, int signatureOffset, int signatureLength) =>
        Verify(input.AsSpan(inputOffset, inputLength).ToArray(), signature.AsSpan(signatureOffset, signatureLength).ToArray());

    protected override void Dispose(bool disposing)
    {
        // Nothing to release: BouncyCastle's parameters hold plain managed arrays.
    }
}
