using System.Text.Json;
using System.Text.Json.Nodes;
using Fido2NetLib;
using Fido2NetLib.Objects;
using Fido2NetLib.Exceptions;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.WebAuthn;

/// <summary>
/// The WebAuthn ceremonies of one relying party (the <c>passkey</c> or the <c>webauthn</c> method's <c>config.rp</c>),
/// verified by the Fido2 library: attestation (<c>none</c> asked for unless the passkey method's <c>config.attestation</c> says otherwise), assertion signatures, the challenge, the page
/// origin, the RP id hash, the user-presence/verification flags and sign-count regression. What a ceremony began with
/// (its options, including the challenge) is kept by the caller in the flow and handed back to finish it, exactly once.
/// </summary>
public sealed class WebAuthnRelyingParty
{
    // go-webauthn's defaults (what Kratos uses): 32 random bytes per challenge; five minutes to answer, two when user
    // verification is discouraged (its Timeout and TimeoutUVD).
    private const int ChallengeBytes = 32;
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan DefaultTimeoutDiscouraged = TimeSpan.FromMinutes(2);

    private readonly Fido2 _fido2;

    /// <param name="attestation">The attestation conveyance preference a registration asks for (Kratos: <c>none</c>).</param>
    /// <param name="registrationTimeout">The registration ceremony's timeout; null: go-webauthn's default (see above).</param>
    /// <param name="loginTimeout">The login ceremony's timeout; null: go-webauthn's default.</param>
    public WebAuthnRelyingParty(string id, string displayName, IEnumerable<string> origins,
        AttestationConveyancePreference attestation = AttestationConveyancePreference.None, TimeSpan? registrationTimeout = null, TimeSpan? loginTimeout = null)
    {
        Id = id;
        DisplayName = displayName;
        Origins = origins.ToHashSet(StringComparer.Ordinal);
        Attestation = attestation;
        RegistrationTimeout = registrationTimeout;
        LoginTimeout = loginTimeout;
        _fido2 = new Fido2(new Fido2Configuration
        {
            RPID = id,
            RPName = displayName,
            Origins = Origins,
            ChallengeSize = ChallengeBytes,
            Timeout = (uint)DefaultTimeout.TotalMilliseconds,
        });
    }

    public string Id { get; }
    public string DisplayName { get; }
    public IReadOnlySet<string> Origins { get; }
    public AttestationConveyancePreference Attestation { get; }
    public TimeSpan? RegistrationTimeout { get; }
    public TimeSpan? LoginTimeout { get; }

    /// <summary>The <c>timeout</c> (milliseconds) of a ceremony's options, as go-webauthn sets it: the configured one, else its default.</summary>
    private static ulong TimeoutFor(TimeSpan? configured, UserVerificationRequirement? verification) =>
        (ulong)(configured ?? (verification == UserVerificationRequirement.Discouraged ? DefaultTimeoutDiscouraged : DefaultTimeout)).TotalMilliseconds;

    /// <summary>
    /// The relying party a method's <c>config.rp</c> describes: origins as configured (<c>origins</c>, else the deprecated
    /// <c>origin</c>), else <c>&lt;scheme of serve.public.base_url&gt;://&lt;id&gt;</c> as Kratos defaults them.
    /// </summary>
    public static WebAuthnRelyingParty From(WebAuthnRelyingPartyOptions rp, GatehouseOptions options) =>
        Built.GetValue(rp, _ => Build(rp, options, null));

    /// <summary>The passkey method's relying party: its <c>config.rp</c>, <c>config.attestation</c> and <c>config.timeouts</c>.</summary>
    public static WebAuthnRelyingParty From(PasskeyMethodConfig passkey, GatehouseOptions options) =>
        Built.GetValue(passkey.Rp, _ => Build(passkey.Rp, options, passkey));

    // One relying party per configured config.rp (the strategies are per request; the Fido2 instance, its configuration and
    // origin set are immutable and were rebuilt for every sign-in, ~0.6% of a passkey sign-in's CPU). Keyed by the options
    // object, which is not changed once the server runs.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<WebAuthnRelyingPartyOptions, WebAuthnRelyingParty> Built = [];

    private static WebAuthnRelyingParty Build(WebAuthnRelyingPartyOptions rp, GatehouseOptions options, PasskeyMethodConfig? passkey)
    {
        var origins = rp.Origins.Count > 0 ? rp.Origins
            : rp.Origin is { Length: > 0 } origin ? [origin]
            : [new Uri(Http.ReturnUrlPolicy.PublicBaseUrl(options)).Scheme + "://" + rp.Id];
        var attestation = passkey?.Attestation.Preference switch
        {
            "indirect" => AttestationConveyancePreference.Indirect,
            "direct" => AttestationConveyancePreference.Direct,
            "enterprise" => AttestationConveyancePreference.Enterprise,
            _ => AttestationConveyancePreference.None,
        };
        return new WebAuthnRelyingParty(rp.Id, rp.DisplayName, origins.Select(o => o.TrimEnd('/')), attestation,
            passkey?.Timeouts.Registration, passkey?.Timeouts.Login);
    }

    /// <summary>
    /// Starts a registration: the options for <c>navigator.credentials.create</c> (Kratos's <c>{"publicKey": …}</c> wrapper,
    /// byte fields base64url) and the state to keep until <see cref="FinishRegistrationAsync"/>.
    /// </summary>
    public (JsonObject ClientOptions, string State) BeginRegistration(byte[] userHandle, string userName, string userDisplayName,
        IEnumerable<byte[]> exclude, AuthenticatorSelection selection)
    {
        var options = _fido2.RequestNewCredential(new RequestNewCredentialParams
        {
            User = new Fido2User { Id = userHandle, Name = userName, DisplayName = userDisplayName },
            ExcludeCredentials = [.. exclude.Select(id => new PublicKeyCredentialDescriptor(id))],
            AuthenticatorSelection = selection,
            AttestationPreference = Attestation,
        });
        options.Timeout = TimeoutFor(RegistrationTimeout, selection.UserVerification);
        var json = options.ToJson();
        return (new JsonObject { ["publicKey"] = JsonNode.Parse(json) }, json);
    }

    /// <summary>
    /// Verifies what <c>navigator.credentials.create</c> returned (as <c>webauthn.js</c> submits it) against the state of
    /// <see cref="BeginRegistration"/>: the new key, or the reason it is refused.
    /// </summary>
    public async Task<WebAuthnResult<WebAuthnKey>> FinishRegistrationAsync(string state, string response, bool passwordless, DateTime now, CancellationToken ct)
    {
        // The strategies refuse what Kratos's library cannot parse (WebAuthnResponseShape) before they spend the challenge;
        // what still fails to deserialize here is the same parse error.
        CredentialCreateOptions original;
        AuthenticatorAttestationRawResponse raw;
        try
        {
            original = CredentialCreateOptions.FromJson(state);
            raw = JsonSerializer.Deserialize<AuthenticatorAttestationRawResponse>(Normalised(response, assertion: false))
                ?? throw new JsonException("empty response");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or FormatException or ArgumentException)
        {
            return WebAuthnResult<WebAuthnKey>.Unparsable(WebAuthnResponseShape.RegistrationParseError);
        }
        try
        {
            var created = await _fido2.MakeNewCredentialAsync(new MakeNewCredentialParams
            {
                AttestationResponse = raw,
                OriginalOptions = original,
                // Uniqueness within the account is the caller's (it knows the stored keys); across accounts an id is random.
                IsCredentialIdUniqueToUserCallback = (_, _) => Task.FromResult(true),
            }, ct);
            var flags = AuthenticatorFlagsOf(raw.Response.AttestationObject);
            return WebAuthnResult<WebAuthnKey>.Accepted(new WebAuthnKey
            {
                Id = created.Id,
                PublicKey = created.PublicKey,
                AttestationType = string.IsNullOrEmpty(created.AttestationFormat) ? "none" : created.AttestationFormat,
                Aaguid = created.AaGuid.ToByteArray(bigEndian: true),
                // As Kratos's CredentialFromWebAuthn: a known authenticator's name (a security key's is then the user's).
                DisplayName = AuthenticatorNames.Find(created.AaGuid) ?? "",
                SignCount = created.SignCount,
                AddedAt = new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc),
                IsPasswordless = passwordless,
                UserPresent = flags.HasFlag(AuthenticatorFlags.UP),
                UserVerified = flags.HasFlag(AuthenticatorFlags.UV),
                BackupEligible = created.IsBackupEligible,
                BackupState = created.IsBackedUp,
                Transports = created.Transports is { } transports ? [.. transports.Select(TransportName)] : [],
            });
        }
        catch (Fido2VerificationException e)
        {
            return WebAuthnResult<WebAuthnKey>.Refused(e.Message);
        }
    }

    /// <summary>
    /// Starts an assertion: the options for <c>navigator.credentials.get</c> (<c>{"publicKey": …}</c>) and the state to keep.
    /// No keys: a discoverable-credential login (passkeys), where the authenticator says whose key it is.
    /// </summary>
    public (JsonObject ClientOptions, string State) BeginAssertion(IEnumerable<WebAuthnKey> allow, UserVerificationRequirement verification)
    {
        var options = _fido2.GetAssertionOptions(new GetAssertionOptionsParams
        {
            AllowedCredentials = [.. allow.Select(k => new PublicKeyCredentialDescriptor(PublicKeyCredentialType.PublicKey, k.Id, Transports(k)))],
            UserVerification = verification,
        });
        options.Timeout = TimeoutFor(LoginTimeout, verification);
        var json = options.ToJson();
        return (new JsonObject { ["publicKey"] = JsonNode.Parse(json) }, json);
    }

    /// <summary>The credential id and user handle an assertion response claims, before anything is verified (to find the account).</summary>
    public static (byte[] CredentialId, byte[]? UserHandle)? Claimed(string response) =>
        ParseAssertion(response) is { } parsed ? (parsed.CredentialId, parsed.UserHandle) : null;

    /// <summary>
    /// An assertion response parsed once (normalised as <c>webauthn.js</c> sends it), for a caller that reads its claims
    /// to find the account and then verifies it: null when it is not an assertion response at all.
    /// </summary>
    public static ParsedAssertion? ParseAssertion(string response)
    {
        if (WebAuthnResponseShape.AssertionProblem(response) is not null) return null;
        try
        {
            var raw = JsonSerializer.Deserialize<AuthenticatorAssertionRawResponse>(Normalised(response, assertion: true));
            return raw?.RawId is { Length: > 0 } && raw.Response is not null ? new ParsedAssertion(raw) : null;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or FormatException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// Verifies an assertion against the state of <see cref="BeginAssertion"/> and the account's keys (<paramref name="keys"/>,
    /// owned by <paramref name="userHandle"/>): the key used with its new sign count, or the reason it is refused — a
    /// signature count that did not grow (a cloned authenticator) marks the key and is refused.
    /// </summary>
    public async Task<WebAuthnResult<WebAuthnKey>> FinishAssertionAsync(string state, string response, IReadOnlyList<WebAuthnKey> keys, byte[]? userHandle,
        DateTime now, CancellationToken ct)
    {
        AuthenticatorAssertionRawResponse raw;
        try
        {
            raw = JsonSerializer.Deserialize<AuthenticatorAssertionRawResponse>(Normalised(response, assertion: true))
                ?? throw new JsonException("empty response");
            if (raw.Response is null || raw.RawId is null) throw new JsonException("no response");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or FormatException or ArgumentException)
        {
            return WebAuthnResult<WebAuthnKey>.Refused("Unable to parse WebAuthn response.");
        }
        return await FinishAssertionAsync(state, new ParsedAssertion(raw), keys, userHandle, now, ct);
    }

    /// <summary>As <see cref="FinishAssertionAsync(string, string, IReadOnlyList{WebAuthnKey}, byte[], DateTime, CancellationToken)"/>, for a response parsed by <see cref="ParseAssertion"/>.</summary>
    public async Task<WebAuthnResult<WebAuthnKey>> FinishAssertionAsync(string state, ParsedAssertion assertion, IReadOnlyList<WebAuthnKey> keys, byte[]? userHandle,
        DateTime now, CancellationToken ct)
    {
        AssertionOptions original;
        var raw = assertion.Raw;
        try
        {
            original = AssertionOptions.FromJson(state);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or FormatException or ArgumentException)
        {
            return WebAuthnResult<WebAuthnKey>.Refused("Unable to parse WebAuthn response.");
        }
        var key = keys.FirstOrDefault(k => k.Id.AsSpan().SequenceEqual(raw.RawId));
        if (key is null) return WebAuthnResult<WebAuthnKey>.Refused("The credential is not registered with this account.");
        try
        {
            var verified = await _fido2.MakeAssertionAsync(new MakeAssertionParams
            {
                AssertionResponse = raw,
                OriginalOptions = original,
                StoredPublicKey = key.PublicKey,
                StoredSignatureCounter = key.SignCount,
                IsUserHandleOwnerOfCredentialIdCallback = (p, _) =>
                    Task.FromResult(userHandle is not null && p.UserHandle.AsSpan().SequenceEqual(userHandle) && keys.Any(k => k.Id.AsSpan().SequenceEqual(p.CredentialId))),
            }, ct);
            key.SignCount = verified.SignCount;
            key.BackupState = verified.IsBackedUp;
            key.LastUsedAt = now;
            return WebAuthnResult<WebAuthnKey>.Accepted(key);
        }
        catch (Fido2VerificationException e) when (e.Code == Fido2ErrorCode.InvalidSignCount)
        {
            key.CloneWarning = true;
            return WebAuthnResult<WebAuthnKey>.Refused(e.Message, key);
        }
        catch (Fido2VerificationException e)
        {
            return WebAuthnResult<WebAuthnKey>.Refused(e.Message);
        }
    }

    /// <summary>
    /// Kratos's <c>webauthn.js</c> sends what the browser gave: no <c>clientExtensionResults</c>, and an empty
    /// <c>userHandle</c> where the authenticator returned none. The library wants the former and reads the latter as a
    /// claim of an empty handle, so both are normalised here.
    /// </summary>
    private static string Normalised(string response, bool assertion)
    {
        if (JsonNode.Parse(response) is not JsonObject o) throw new JsonException("not an object");
        if (o["clientExtensionResults"] is not JsonObject) o["clientExtensionResults"] = o["extensions"] is JsonObject ext ? ext.DeepClone() : new JsonObject();
        o.Remove("extensions");
        if (assertion && o["response"] is JsonObject r && r["userHandle"] is JsonValue h && h.GetValueKind() == JsonValueKind.String && h.GetValue<string>().Length == 0)
            r.Remove("userHandle");
        // Transports the library does not know (browsers add new ones) would fail the whole response; they are only hints.
        if (!assertion && o["response"] is JsonObject a && a["transports"] is JsonArray transports)
            a["transports"] = new JsonArray([.. transports.Where(t => t is JsonValue v && v.GetValueKind() == JsonValueKind.String && ParseTransport(v.GetValue<string>()) is not null).Select(t => t!.DeepClone())]);
        return o.ToJsonString();
    }

    private static AuthenticatorFlags AuthenticatorFlagsOf(byte[] attestationObject)
    {
        // The flags byte follows the 32-byte RP id hash in authData; the library verified the object already.
        var authData = AttestationAuthData(attestationObject);
        return authData is { Length: > 32 } ? (AuthenticatorFlags)authData[32] : 0;
    }

    private static byte[]? AttestationAuthData(byte[] attestationObject)
    {
        try
        {
            var reader = new System.Formats.Cbor.CborReader(attestationObject);
            var count = reader.ReadStartMap();
            for (var i = 0; count is null || i < count; i++)
            {
                if (reader.PeekState() == System.Formats.Cbor.CborReaderState.EndMap) break;
                var name = reader.ReadTextString();
                if (name == "authData") return reader.ReadByteString();
                reader.SkipValue();
            }
        }
        catch (System.Formats.Cbor.CborContentException)
        {
        }
        catch (InvalidOperationException)
        {
        }
        return null;
    }

    private static AuthenticatorTransport[]? Transports(WebAuthnKey key)
    {
        var known = key.Transports.Select(ParseTransport).OfType<AuthenticatorTransport>().ToArray();
        return known.Length > 0 ? known : null;
    }

    private static AuthenticatorTransport? ParseTransport(string name) => name switch
    {
        "usb" => AuthenticatorTransport.Usb,
        "nfc" => AuthenticatorTransport.Nfc,
        "ble" => AuthenticatorTransport.Ble,
        "internal" => AuthenticatorTransport.Internal,
        "hybrid" => AuthenticatorTransport.Hybrid,
        "smart-card" => AuthenticatorTransport.SmartCard,
        _ => null,
    };

    private static string TransportName(AuthenticatorTransport transport) => transport switch
    {
        AuthenticatorTransport.Usb => "usb",
        AuthenticatorTransport.Nfc => "nfc",
        AuthenticatorTransport.Ble => "ble",
        AuthenticatorTransport.Internal => "internal",
        AuthenticatorTransport.Hybrid => "hybrid",
        AuthenticatorTransport.SmartCard => "smart-card",
        _ => transport.ToString().ToLowerInvariant(),
    };
}

/// <summary>
/// The outcome of a WebAuthn ceremony: the value, or why it was refused (and, for a clone warning, the key to save);
/// <see cref="IsUnparsable"/> when the answer did not even parse (the reason is then Kratos's parser detail).
/// </summary>
public sealed record WebAuthnResult<T>(T? Value, string? Reason, T? Flagged = default, bool IsUnparsable = false) where T : class
{
    public static WebAuthnResult<T> Accepted(T value) => new(value, null);

    public static WebAuthnResult<T> Refused(string reason, T? flagged = null) => new(null, reason, flagged);

    public static WebAuthnResult<T> Unparsable(string detail) => new(null, detail, IsUnparsable: true);

    /// <summary>
    /// The form message for a refused registration: Kratos's "Unable to parse WebAuthn response: …" for an answer that
    /// does not parse, else "Unable to create WebAuthn credential: …" (a verification failure; Kratos answers those 500).
    /// </summary>
    public System.Text.Json.Nodes.JsonObject RegistrationRefusal() =>
        IsUnparsable ? Text.Messages.WebAuthnResponseUnparsable(Reason!) : Text.Messages.WebAuthnRegistrationFailed(Reason!);
}

/// <summary>An assertion response parsed by <see cref="WebAuthnRelyingParty.ParseAssertion"/>: what it claims, not yet verified.</summary>
public sealed class ParsedAssertion
{
    internal ParsedAssertion(AuthenticatorAssertionRawResponse raw) => Raw = raw;

    internal AuthenticatorAssertionRawResponse Raw { get; }

    public byte[] CredentialId => Raw.RawId;

    public byte[]? UserHandle => Raw.Response.UserHandle;
}
