using System.Text.Json.Nodes;
using Fido2NetLib;
using Fido2NetLib.Objects;
using Gatehouse.SelfService.Strategies.WebAuthn;

namespace Gatehouse.Tests.SelfService.WebAuthn;

/// <summary>
/// The WebAuthn ceremonies against a software authenticator's real ES256 attestations and assertions: what is accepted
/// and stored, and each way an answer is refused (another challenge, another origin, another RP id, a sign count that
/// did not grow, a key of another account, a malformed answer).
/// </summary>
public sealed class WebAuthnRelyingPartyTests
{
    private const string Origin = "https://auth.example.com";
    private static readonly DateTime Now = new(2026, 12, 4, 12, 0, 0, DateTimeKind.Utc);

    private static WebAuthnRelyingParty Rp() => new("example.com", "Example", [Origin]);

    private static AuthenticatorSelection Passkey() => new()
    {
        ResidentKey = ResidentKeyRequirement.Required,
        UserVerification = UserVerificationRequirement.Preferred,
    };

    private static async Task<WebAuthnKey> Register(WebAuthnRelyingParty rp, SoftwareAuthenticator authenticator, byte[]? handle = null)
    {
        var (options, state) = rp.BeginRegistration(handle ?? "user-handle-1"u8.ToArray(), "jane", "jane", [], Passkey());
        var result = await rp.FinishRegistrationAsync(state, authenticator.Create(options), passwordless: true, Now, CancellationToken.None);
        Assert.Null(result.Reason);
        return result.Value!;
    }

    [Fact]
    public async Task Registration_stores_the_public_key_aaguid_transports_flags_and_sign_count()
    {
        var rp = Rp();
        using var authenticator = new SoftwareAuthenticator(Origin);
        var (options, state) = rp.BeginRegistration("handle"u8.ToArray(), "jane@example.org", "Jane", [], Passkey());

        // The options are what navigator.credentials.create takes, inside Kratos's {"publicKey": …} wrapper.
        var pk = options["publicKey"]!;
        Assert.Equal("example.com", pk["rp"]!["id"]!.GetValue<string>());
        Assert.Equal("none", pk["attestation"]!.GetValue<string>());
        Assert.Equal("required", pk["authenticatorSelection"]!["residentKey"]!.GetValue<string>());
        Assert.Equal(32, System.Buffers.Text.Base64Url.DecodeFromChars(pk["challenge"]!.GetValue<string>()).Length);

        var result = await rp.FinishRegistrationAsync(state, authenticator.Create(options, ["internal", "usb", "cable-v9"]), passwordless: true, Now, CancellationToken.None);
        var key = Assert.IsType<WebAuthnKey>(result.Value);
        Assert.Equal(authenticator.CredentialId, key.Id);
        Assert.Equal(authenticator.Aaguid, key.Aaguid);
        Assert.Equal(1u, key.SignCount);
        Assert.Equal(["internal", "usb"], key.Transports); // an unknown transport is dropped, not fatal
        Assert.True(key.IsPasswordless && key.UserPresent && key.UserVerified && key.BackupEligible && key.BackupState);
        Assert.Equal("none", key.AttestationType);
        Assert.Equal(Now, key.AddedAt);

        // Kratos's stored shape round-trips.
        var json = key.ToJson();
        Assert.Equal(Convert.ToBase64String(authenticator.Aaguid), json["authenticator"]!["aaguid"]!.GetValue<string>());
        var back = WebAuthnKey.FromJson(json)!;
        Assert.Equal(key.PublicKey, back.PublicKey);
        Assert.Equal(key.Transports, back.Transports);
    }

    [Fact]
    public async Task A_known_authenticator_names_the_new_key_and_an_unknown_one_leaves_it_unnamed()
    {
        // As Kratos's CredentialFromWebAuthn: the name the AAGUID has in the list of known authenticators.
        var rp = Rp();
        using var google = new SoftwareAuthenticator(Origin) { Aaguid = Guid.Parse("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4").ToByteArray(bigEndian: true) };
        Assert.Equal("Google Password Manager", (await Register(rp, google)).DisplayName);
        using var yubikey = new SoftwareAuthenticator(Origin) { Aaguid = Guid.Parse("cb69481e-8ff7-4039-93ec-0a2729a154a8").ToByteArray(bigEndian: true) };
        Assert.Equal("YubiKey 5 Series", (await Register(rp, yubikey)).DisplayName);
        using var unknown = new SoftwareAuthenticator(Origin);
        Assert.Equal("", (await Register(rp, unknown)).DisplayName);
        using var zeros = new SoftwareAuthenticator(Origin) { Aaguid = new byte[16] };
        Assert.Equal("", (await Register(rp, zeros)).DisplayName);
        Assert.True(AuthenticatorNames.Count > 300, $"{AuthenticatorNames.Count} names");
    }

    [Fact]
    public async Task Assertion_with_the_registered_key_is_accepted_and_moves_the_sign_count()
    {
        var rp = Rp();
        using var authenticator = new SoftwareAuthenticator(Origin);
        var key = await Register(rp, authenticator);
        var (options, state) = rp.BeginAssertion([], UserVerificationRequirement.Preferred);
        Assert.Empty(options["publicKey"]!["allowCredentials"]?.AsArray() ?? []);

        var result = await rp.FinishAssertionAsync(state, authenticator.Get(options), [key], authenticator.UserHandle, Now, CancellationToken.None);
        Assert.Null(result.Reason);
        Assert.Equal(2u, result.Value!.SignCount);
        Assert.Equal(Now, result.Value.LastUsedAt);
        var claimed = WebAuthnRelyingParty.Claimed(authenticator.Get(options, bumpCount: false))!.Value;
        Assert.Equal(authenticator.CredentialId, claimed.CredentialId);
        Assert.Equal(authenticator.UserHandle, claimed.UserHandle);
    }

    [Fact]
    public async Task An_answer_to_another_challenge_is_refused()
    {
        var rp = Rp();
        using var authenticator = new SoftwareAuthenticator(Origin);
        var key = await Register(rp, authenticator);
        var (first, _) = rp.BeginAssertion([], UserVerificationRequirement.Preferred);
        var (_, secondState) = rp.BeginAssertion([], UserVerificationRequirement.Preferred);

        // A recorded answer to an earlier challenge, replayed against a new ceremony.
        var replay = await rp.FinishAssertionAsync(secondState, authenticator.Get(first), [key], authenticator.UserHandle, Now, CancellationToken.None);
        Assert.Null(replay.Value);
        Assert.Contains("challenge", replay.Reason, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_answer_from_another_origin_is_refused_at_registration_and_sign_in()
    {
        var rp = Rp();
        using var phisher = new SoftwareAuthenticator("https://auth.example.com.evil.test");
        var (options, state) = rp.BeginRegistration("h"u8.ToArray(), "jane", "jane", [], Passkey());
        var refused = await rp.FinishRegistrationAsync(state, phisher.Create(options), passwordless: true, Now, CancellationToken.None);
        Assert.Null(refused.Value);
        Assert.Contains("origin", refused.Reason, StringComparison.OrdinalIgnoreCase);

        using var authenticator = new SoftwareAuthenticator(Origin);
        var key = await Register(rp, authenticator);
        var (assertion, assertionState) = rp.BeginAssertion([], UserVerificationRequirement.Preferred);
        authenticator.Origin = "http://auth.example.com"; // right host, wrong scheme
        var result = await rp.FinishAssertionAsync(assertionState, authenticator.Get(assertion), [key], authenticator.UserHandle, Now, CancellationToken.None);
        Assert.Null(result.Value);
        Assert.Contains("origin", result.Reason, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_signature_for_another_rp_id_is_refused()
    {
        var rp = Rp();
        using var authenticator = new SoftwareAuthenticator(Origin);
        var key = await Register(rp, authenticator);
        var (options, state) = rp.BeginAssertion([], UserVerificationRequirement.Preferred);
        authenticator.RpIdOverride = "evil.test";
        var result = await rp.FinishAssertionAsync(state, authenticator.Get(options), [key], authenticator.UserHandle, Now, CancellationToken.None);
        Assert.Null(result.Value);
        Assert.Contains("rp", result.Reason, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_sign_count_that_did_not_grow_is_refused_and_flags_the_key_as_cloned()
    {
        var rp = Rp();
        using var authenticator = new SoftwareAuthenticator(Origin);
        var key = await Register(rp, authenticator);
        var (options, state) = rp.BeginAssertion([], UserVerificationRequirement.Preferred);
        var accepted = await rp.FinishAssertionAsync(state, authenticator.Get(options), [key], authenticator.UserHandle, Now, CancellationToken.None);
        Assert.Equal(2u, accepted.Value!.SignCount);

        // A copy of the authenticator that is behind: its count is not above the stored one.
        authenticator.SignCount = 2;
        var (again, againState) = rp.BeginAssertion([], UserVerificationRequirement.Preferred);
        var cloned = await rp.FinishAssertionAsync(againState, authenticator.Get(again, bumpCount: false), [accepted.Value], authenticator.UserHandle, Now, CancellationToken.None);
        Assert.Null(cloned.Value);
        Assert.True(cloned.Flagged!.CloneWarning);
        Assert.Equal(2u, cloned.Flagged.SignCount);
    }

    [Fact]
    public async Task A_key_the_account_does_not_hold_or_a_wrong_signature_is_refused()
    {
        var rp = Rp();
        using var mine = new SoftwareAuthenticator(Origin);
        using var other = new SoftwareAuthenticator(Origin);
        var myKey = await Register(rp, mine);
        _ = await Register(rp, other, "user-handle-2"u8.ToArray());
        var (options, state) = rp.BeginAssertion([], UserVerificationRequirement.Preferred);
        var notMine = await rp.FinishAssertionAsync(state, other.Get(options), [myKey], mine.UserHandle, Now, CancellationToken.None);
        Assert.Null(notMine.Value);

        // The other authenticator's signature presented under my credential id.
        var forged = JsonNode.Parse(other.Get(options))!;
        forged["id"] = System.Buffers.Text.Base64Url.EncodeToString(mine.CredentialId);
        forged["rawId"] = System.Buffers.Text.Base64Url.EncodeToString(mine.CredentialId);
        forged["response"]!["userHandle"] = System.Buffers.Text.Base64Url.EncodeToString(mine.UserHandle!);
        var result = await rp.FinishAssertionAsync(state, forged.ToJsonString(), [myKey], mine.UserHandle, Now, CancellationToken.None);
        Assert.Null(result.Value);
        Assert.Contains("signature", result.Reason, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{"id":"x"}""")]
    [InlineData("""{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30"}}""")]
    public async Task A_malformed_answer_is_refused_without_an_exception(string response)
    {
        var rp = Rp();
        var (_, state) = rp.BeginAssertion([], UserVerificationRequirement.Preferred);
        var result = await rp.FinishAssertionAsync(state, response, [], null, Now, CancellationToken.None);
        Assert.Null(result.Value);
        var (_, regState) = rp.BeginRegistration("h"u8.ToArray(), "jane", "jane", [], Passkey());
        Assert.Null((await rp.FinishRegistrationAsync(regState, response, passwordless: true, Now, CancellationToken.None)).Value);
    }
}
