using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Config;

namespace Gatehouse.OAuth2.Flows;

/// <summary>
/// The verifier that accepting or rejecting a login, consent or logout request hands out: an HMAC-SHA256 of the challenge
/// under a key derived from the configured secrets, so the same challenge always gets the same verifier. A login, consent
/// or logout app that calls accept again (a retry after a timeout, a double submit) and sends the browser to the first
/// answer's <c>redirect_to</c> still gets through, as with Hydra, whose verifiers are stateless encodings of the flow.
/// Only the verifier's SHA-256 is stored, and it is spent once; without the key a verifier cannot be derived from a
/// challenge, which the browser sees.
/// </summary>
public sealed class FlowVerifiers(GatehouseOptions options)
{
    public const string Login = "login";
    public const string Consent = "consent";
    public const string Logout = "logout";

    // A configured secret keeps verifiers stable across restarts and replicas; without one (a test host), a key per process.
    private readonly byte[] _key = SHA256.HashData(Encoding.UTF8.GetBytes("gatehouse-oauth2-verifier\n"
        + (options.Secrets.Default.FirstOrDefault() ?? options.Secrets.Cookie.FirstOrDefault() ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)))));

    /// <summary>The verifier of <paramref name="challenge"/> for <paramref name="purpose"/> (<see cref="Login"/>, …).</summary>
    public string For(string purpose, string challenge) =>
        Base64Url.EncodeToString(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(purpose + "\n" + challenge)));
}
