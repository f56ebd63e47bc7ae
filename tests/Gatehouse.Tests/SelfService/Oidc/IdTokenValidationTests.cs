using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.OAuth2.Keys;
using Gatehouse.SelfService.Strategies.Oidc;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Tests.SelfService.Oidc;

/// <summary>
/// The upstream ID token checks (signature via the provider's published keys with rotation, issuer, audience, expiry,
/// nonce), the cache of discovery documents and key sets by their HTTP lifetimes, and the encrypted state, against a
/// provider on a real loopback listener.
/// </summary>
public sealed class IdTokenValidationTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));
    private TestOpenIdProvider _idp = null!;
    private OidcMetadataCache _cache = null!;
    private IdTokenValidator _validator = null!;
    private ServiceProvider _services = null!;

    public async ValueTask InitializeAsync()
    {
        _idp = await TestOpenIdProvider.StartAsync();
        _services = new ServiceCollection().AddHttpClient().BuildServiceProvider();
        _cache = new OidcMetadataCache(_services.GetRequiredService<IHttpClientFactory>(), _clock);
        _validator = new IdTokenValidator(_cache, _clock);
    }

    public async ValueTask DisposeAsync()
    {
        await _idp.DisposeAsync();
        await _services.DisposeAsync();
    }

    private Task<OidcProviderMetadata> Metadata() => _cache.MetadataAsync(_idp.Issuer, CancellationToken.None);

    private async Task<JsonObject> Validate(string token, string? nonce = "n-1") =>
        await _validator.ValidateAsync(token, await Metadata(), [TestOpenIdProvider.ClientId], nonce, CancellationToken.None);

    private async Task<string> Refused(string token, string? nonce = "n-1") =>
        (await Assert.ThrowsAsync<OidcUpstreamError>(() => Validate(token, nonce))).Reason;

    [Fact]
    public async Task A_token_signed_by_the_provider_for_this_client_with_the_nonce_is_accepted()
    {
        var claims = await Validate(_idp.Sign(_idp.Claims("alice", _clock.GetUtcNow(), "n-1")));
        Assert.Equal("alice", (string?)claims["sub"]);
        Assert.Equal("alice@idp.test", (string?)claims["email"]);
    }

    [Fact]
    public async Task A_token_of_another_issuer_is_refused()
    {
        var claims = _idp.Claims("alice", _clock.GetUtcNow(), "n-1");
        claims["iss"] = "https://evil.example.com";
        Assert.Contains("another issuer", await Refused(_idp.Sign(claims)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_for_another_client_is_refused()
    {
        var claims = _idp.Claims("alice", _clock.GetUtcNow(), "n-1");
        claims["aud"] = "someone-else";
        Assert.Contains("another client", await Refused(_idp.Sign(claims)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_expired_token_is_refused_by_the_injected_clock()
    {
        var token = _idp.Sign(_idp.Claims("alice", _clock.GetUtcNow(), "n-1"));
        await Validate(token);
        _clock.Advance(TimeSpan.FromHours(1));
        Assert.Contains("expired", await Refused(token), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_signed_with_another_key_under_the_published_key_id_is_refused()
    {
        var forged = TestOpenIdProvider.NewKey(_idp.Key.KeyId);
        var token = _idp.Sign(_idp.Claims("alice", _clock.GetUtcNow(), "n-1"), new SigningCredentials(forged, SecurityAlgorithms.RsaSha256));
        Assert.Contains("signature", await Refused(token), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unsigned_token_is_refused()
    {
        var payload = Base64UrlEncoder.Encode(_idp.Claims("alice", _clock.GetUtcNow(), "n-1").ToJsonString());
        var token = Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""") + "." + payload + ".";
        await Refused(token);
    }

    [Fact]
    public async Task A_token_with_another_nonce_or_none_is_refused()
    {
        Assert.Contains("nonce", await Refused(_idp.Sign(_idp.Claims("alice", _clock.GetUtcNow(), "n-2"))), StringComparison.Ordinal);
        Assert.Contains("nonce", await Refused(_idp.Sign(_idp.Claims("alice", _clock.GetUtcNow(), null))), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rotated_key_is_fetched_once_and_unknown_key_ids_do_not_hammer_the_provider()
    {
        await Validate(_idp.Sign(_idp.Claims("alice", _clock.GetUtcNow(), "n-1")));
        Assert.Equal(1, _idp.JwksFetches);

        // The provider rotates: tokens signed with the new key are accepted after one refetch.
        _idp.Key = TestOpenIdProvider.NewKey("key-2");
        await Validate(_idp.Sign(_idp.Claims("alice", _clock.GetUtcNow(), "n-1")));
        Assert.Equal(2, _idp.JwksFetches);

        // Tokens naming a key nobody publishes: refused, and the set is not refetched within ten seconds.
        var stranger = new SigningCredentials(TestOpenIdProvider.NewKey("nobody"), SecurityAlgorithms.RsaSha256);
        for (var i = 0; i < 3; i++) await Refused(_idp.Sign(_idp.Claims("alice", _clock.GetUtcNow(), "n-1"), stranger));
        Assert.Equal(2, _idp.JwksFetches);
        _clock.Advance(TimeSpan.FromSeconds(11));
        await Refused(_idp.Sign(_idp.Claims("alice", _clock.GetUtcNow(), "n-1"), stranger));
        Assert.Equal(3, _idp.JwksFetches);
    }

    [Fact]
    public async Task Discovery_and_keys_are_cached_for_their_http_lifetime()
    {
        _idp.MaxAge = 300;
        await Metadata();
        await Metadata();
        Assert.Equal(1, _idp.DiscoveryFetches);
        _clock.Advance(TimeSpan.FromSeconds(299));
        await Metadata();
        Assert.Equal(1, _idp.DiscoveryFetches);
        _clock.Advance(TimeSpan.FromSeconds(2));
        await Metadata();
        Assert.Equal(2, _idp.DiscoveryFetches);
    }

    [Fact]
    public async Task A_provider_that_is_down_is_a_clear_upstream_error()
    {
        // Nothing listens on port 1 (privileged, never handed out): the connection is refused.
        var e = await Assert.ThrowsAsync<OidcUpstreamError>(() => _cache.MetadataAsync("http://127.0.0.1:1", CancellationToken.None));
        Assert.Contains("could not be reached", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_state_is_encrypted_authenticated_and_bound_to_the_configured_secret()
    {
        var cipher = Cipher("secret-one-0123456789abcdef012345");
        var state = new OidcState(Guid.CreateVersion7(), "login", "test-idp", OidcState.NewRandom(), OidcState.NewRandom(), OidcState.NewRandom(), null);
        var sealedState = state.Encrypt(cipher);
        Assert.DoesNotContain(state.FlowId.ToString(), sealedState, StringComparison.Ordinal);
        Assert.Equal(state, OidcState.TryDecrypt(cipher, sealedState));

        // One changed character, or another deployment's secret: not a state.
        var tampered = sealedState[..10] + (sealedState[10] == 'A' ? 'B' : 'A') + sealedState[11..];
        Assert.Null(OidcState.TryDecrypt(cipher, tampered));
        Assert.Null(OidcState.TryDecrypt(Cipher("secret-two-0123456789abcdef012345"), sealedState));
        Assert.Null(OidcState.TryDecrypt(cipher, "not-a-state"));
    }

    private static OidcCipher Cipher(string secret)
    {
        var o = new GatehouseOptions();
        o.Secrets.Cipher = [secret];
        return new OidcCipher(o, new JsonWebKeyCipher(o), Microsoft.Extensions.Logging.Abstractions.NullLogger<OidcCipher>.Instance);
    }
}
