using System.Globalization;
using System.Text.Json.Nodes;
using Gatehouse.Http.Json;
using Gatehouse.Schemas;

namespace Gatehouse.Text;

/// <summary>
/// UI messages with Kratos's ids, types and texts (<c>text/id.go</c> numbering), as <c>uiText</c> JSON:
/// <c>{"id", "text", "type": info|error|success, "context"?}</c>.
/// </summary>
public static partial class Messages
{
    public static JsonObject Info(long id, string text, JsonObject? context = null) => Make(id, text, "info", context);
    public static JsonObject Error(long id, string text, JsonObject? context = null) => Make(id, text, "error", context);
    public static JsonObject Success(long id, string text, JsonObject? context = null) => Make(id, text, "success", context);

    private static JsonObject Make(long id, string text, string type, JsonObject? context)
    {
        var o = new JsonObject { ["id"] = id, ["text"] = text, ["type"] = type };
        if (context is { Count: > 0 }) o["context"] = context;
        return o;
    }

    // Labels and buttons (107xxxx, 101xxxx, 104xxxx).
    public static JsonObject LabelPassword() => Info(1070001, "Password");
    public static JsonObject LabelGenerated(string title, string name) => Info(1070002, title, new JsonObject { ["title"] = title, ["name"] = name });
    public static JsonObject LabelId() => Info(1070004, "ID");
    public static JsonObject LabelContinue() => Info(1070009, "Continue");
    public static JsonObject LabelEmail() => Info(1070007, "Email");
    public static JsonObject LabelSubmit() => Info(1070005, "Submit");
    public static JsonObject LabelResendCode() => Info(1070008, "Resend code");
    public static JsonObject LabelRecoveryCode() => Info(1070010, "Recovery code");
    public static JsonObject LabelVerificationCode() => Info(1070011, "Verification code");
    public static JsonObject LabelRegistrationCode() => Info(1070012, "Registration code");
    public static JsonObject LabelLoginCode() => Info(1070013, "Login code");
    public static JsonObject LabelRecoveryAddress() => Info(1070016, "Recovery address");
    public static JsonObject LabelPhoneNumber() => Info(1070017, "Phone number");

    /// <summary>A bare label (1070000) with its text, as Kratos labels a masked address to choose.</summary>
    public static JsonObject Label(string text) => Info(1070000, text);
    public static JsonObject SendSignInCode() => Info(1010015, "Send sign in code");
    public static JsonObject SendSignUpCode() => Info(1040006, "Send sign up code");
    public static JsonObject LoginCodeSent() => Info(1010014, "A code was sent to the address you provided. If you didn't receive it, please check the spelling of the address and try again.");
    public static JsonObject RegistrationCodeSent() => Info(1040005, "A code has been sent to the address(es) you provided. If you have not received a message, check the spelling of the address and retry the registration.");
    public static JsonObject LoginCodeInvalid() => Error(4010008, "The login code is invalid or has already been used. Please try again.");
    public static JsonObject RegistrationCodeInvalid() => Error(4040003, "The registration code is invalid or has already been used. Please try again.");
    public static JsonObject NoCodeUser() => Error(4000035, "This account does not exist or has not setup sign in with code.");
    public static JsonObject AccountNotFound() => Error(4000037, "This account does not exist or has no login method configured.");
    public static JsonObject TraitsMismatch() => Error(4000036, "The provided traits do not match the traits previously associated with this flow.");
    public static JsonObject VerificationLinkSent() => Info(1080001, "An email containing a verification link has been sent to the email address you provided. If you have not received an email, check the spelling of the address and make sure to use the address you registered with.");
    public static JsonObject VerificationCodeSent() => Info(1080003, "An email containing a verification code has been sent to the email address you provided. If you have not received an email, check the spelling of the address and make sure to use the address you registered with.");
    public static JsonObject VerificationSuccessful() => Success(1080002, "You successfully verified your email address.");
    public static JsonObject VerificationPhoneCodeSent() => Info(1080004, "A text message containing a verification code has been sent to the phone number you provided. If you have not received a text message, check the spelling of the number and make sure to use the number you registered with.");
    public static JsonObject VerificationPhoneSuccessful() => Success(1080005, "You successfully verified your phone number.");
    public static JsonObject VerificationCodeInvalid() => Error(4070006, "The verification code is invalid or has already been used. Please try again.");
    public static JsonObject VerificationTokenInvalid() => Error(4070001, "The verification token is invalid or has already been used. Please retry the flow.");
    public static JsonObject VerificationRetrySuccess() => Error(4070002, "The request was already completed successfully and can not be retried.");
    public static JsonObject VerificationNoStrategy() => Error(4010006, "Could not find a strategy to verify your account with. Did you fill out the form correctly?");
    public static JsonObject RecoveryLinkSent() => Info(1060002, "An email containing a recovery link has been sent to the email address you provided. If you have not received an email, check the spelling of the address and make sure to use the address you registered with.");
    public static JsonObject RecoveryCodeSent() => Info(1060003, "An email containing a recovery code has been sent to the email address you provided. If you have not received an email, check the spelling of the address and make sure to use the address you registered with.");
    /// <summary>
    /// 1060001 on the settings flow a recovery makes (Kratos's <c>NewRecoverySuccessful</c>): the minutes left to change
    /// the password as Go's <c>%.2f</c>, and when the privileged session ends in Kratos's three context keys (RFC 3339 twice,
    /// and Unix seconds, from which Ory Elements words the minutes left).
    /// </summary>
    public static JsonObject RecoverySuccessful(DateTime privilegedSessionExpiresAt, DateTime now)
    {
        var utc = DateTime.SpecifyKind(privilegedSessionExpiresAt, DateTimeKind.Utc);
        var minutes = (utc - now).TotalMinutes.ToString("0.00", CultureInfo.InvariantCulture);
        return Success(1060001, $"You successfully recovered your account. Please change your password or set up an alternative login method (e.g. social sign in) within the next {minutes} minutes.", new JsonObject
        {
            ["privilegedSessionExpiresAt"] = GoTimeJsonConverter.Format(utc),
            ["privileged_session_expires_at"] = GoTimeJsonConverter.Format(utc),
            ["privileged_session_expires_at_unix"] = new DateTimeOffset(utc).ToUnixTimeSeconds(),
        });
    }
    public static JsonObject RecoveryCodeSentToMasked(string masked) => Info(1060004, $"A recovery code has been sent to {masked}. If you have not received it, check the spelling of the address and make sure to use the address you registered with.", new JsonObject { ["masked_address"] = masked });
    public static JsonObject RecoveryAskForFullAddress() => Info(1060005, "Recover access to your account by providing your recovery address in full.");
    public static JsonObject RecoveryAskToChooseAddress() => Info(1060006, "How do you want to recover your account?");
    public static JsonObject RecoveryBack() => Info(1060007, "Back");
    public static JsonObject RecoveryCodeInvalid() => Error(4060006, "The recovery code is invalid or has already been used. Please try again.");
    public static JsonObject RecoveryTokenInvalid() => Error(4060004, "The recovery token is invalid or has already been used. Please retry the flow.");
    public static JsonObject RecoveryStateFailure() => Error(4060002, "The recovery flow reached a failure state and must be retried.");
    public static JsonObject RecoveryRetrySuccess() => Error(4060001, "The request was already completed successfully and can not be retried.");
    public static JsonObject RecoveryNoStrategy() => Error(4010005, "Could not find a strategy to recover your account with. Did you fill out the form correctly?");
    public static JsonObject Save() => Info(1070003, "Save");
    public static JsonObject SignIn() => Info(1010001, "Sign in");
    public static JsonObject TotpCodeInvalid() => Error(4000008, "The provided authentication code is invalid, please try again.");
    public static JsonObject NoTotpDevice() => Error(4000011, "You have no TOTP device set up.");
    public static JsonObject LabelAuthenticationCode() => Info(1010006, "Authentication code");
    public static JsonObject UseAuthenticator() => Info(1010009, "Use Authenticator");
    public static JsonObject LabelVerifyCode() => Info(1070006, "Verify code");
    public static JsonObject TotpQrCode() => Info(1050005, "Authenticator app QR code");
    public static JsonObject TotpSecretLabel() => Info(1050017, "This is your authenticator app secret. Use it if you can not scan the QR code.");
    public static JsonObject TotpSecret(string secret) => Info(1050006, secret, new JsonObject { ["secret"] = secret });
    public static JsonObject UnlinkTotp() => Info(1050004, "Unlink TOTP Authenticator App");
    public static JsonObject SendCodeTo(string address, string channel) =>
        Info(1010023, $"Send code to {address}", new JsonObject { ["address"] = address, ["channel"] = channel });
    public static JsonObject AddressUnknown() => Error(4010010, "The address you entered does not match any known addresses in the current account.");
    public static JsonObject LabelLookupSecret() => Info(1010007, "Backup recovery code");
    public static JsonObject UseLookupSecret() => Info(1010010, "Use backup recovery code");
    public static JsonObject RevealLookup() => Info(1050007, "Reveal backup recovery codes");
    public static JsonObject RegenerateLookup() => Info(1050008, "Generate new backup recovery codes");
    public static JsonObject LookupSecret(string secret) => Info(1050009, secret, new JsonObject { ["secret"] = secret });
    public static JsonObject LookupSecretsLabel() => Info(1050010, "These are your back up recovery codes. Please keep them in a safe place!");
    public static JsonObject ConfirmLookup() => Info(1050011, "Confirm backup recovery codes");

    /// <summary>Kratos formats the time as Go's <c>time.Time.String()</c> in UTC: <c>2021-08-17 11:32:39 +0000 UTC</c>.</summary>
    public static JsonObject LookupSecretUsed(DateTimeOffset usedAt) =>
        Info(1050014, "Secret was used at " + usedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + " +0000 UTC",
            new JsonObject { ["used_at"] = usedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture), ["used_at_unix"] = usedAt.ToUnixTimeSeconds() });
    public static JsonObject LookupSecretList(string text, JsonArray secrets) => Info(1050015, text, new JsonObject { ["secrets"] = secrets });
    public static JsonObject DisableLookup() => Info(1050016, "Disable this method");
    public static JsonObject LookupAlreadyUsed() => Error(4000012, "This backup recovery code has already been used.");
    public static JsonObject NoLookup() => Error(4000014, "You have no backup recovery codes set up.");
    public static JsonObject LookupInvalid() => Error(4000016, "The backup recovery code is not valid.");
    public static JsonObject LoginMfa() => Info(1010004, "Please complete the second authentication challenge.");
    public static JsonObject LoginReAuth() => Info(1010003, "Please confirm this action by verifying that it is you.");
    public static JsonObject SignInWithPassword() => Info(1010022, "Sign in with password");
    public static JsonObject SignUp() => Info(1040001, "Sign up");
    public static JsonObject SignInWith(string provider, string providerId) => Info(1010002, $"Sign in with {provider}", new JsonObject { ["provider"] = provider, ["provider_id"] = providerId });
    public static JsonObject RegistrationContinue() => Info(1040003, "Continue");
    public static JsonObject LoginAndLink() => Info(1010017, "Sign in and link");
    public static JsonObject LoginWithAndLink(string provider) => Info(1010018, $"Confirm with {provider}", new JsonObject { ["provider"] = provider });
    public static JsonObject LinkedCredentialsMismatch() => Error(4010009, "Linked credentials do not match.");

    /// <summary>
    /// 1010016: the account linking prompt on the login flow a colliding social sign-up turned into (Kratos's context keys,
    /// sorted as Go writes a map; <paramref name="newLoginUrl"/> is the login UI's URL, under both of Kratos's spellings).
    /// </summary>
    /// <remarks>
    /// With <c>selfservice.flows.registration.login_hints</c> on, <paramref name="availableCredentialTypes"/> and
    /// <paramref name="availableProviders"/> are the existing account's login hints; otherwise empty, as in Kratos.
    /// </remarks>
    public static JsonObject LoginLink(string duplicateIdentifier, string provider, string newLoginUrl,
        IReadOnlyList<string>? availableCredentialTypes = null, IReadOnlyList<string>? availableProviders = null) => Info(1010016,
        $"You tried to sign in with \"{duplicateIdentifier}\", but that email is already used by another account. Sign in to your account with one of the options below to add your account \"{duplicateIdentifier}\" at \"{provider}\" as another way to sign in.",
        new JsonObject
        {
            ["available_credential_types"] = StringArray(availableCredentialTypes ?? []),
            ["available_providers"] = StringArray(availableProviders ?? []),
            ["duplicateIdentifier"] = duplicateIdentifier,
            ["duplicate_identifier"] = duplicateIdentifier,
            ["newLoginUrl"] = newLoginUrl,
            ["new_login_url"] = newLoginUrl,
            ["provider"] = provider,
        });

    public static JsonObject SignUpWith(string provider, string providerId) => Info(1040002, $"Sign up with {provider}", new JsonObject { ["provider"] = provider, ["provider_id"] = providerId });
    public static JsonObject RegistrationBack() => Info(1040008, "Back");
    public static JsonObject ChooseCredentials() => Info(1040009, "Please choose a credential to authenticate yourself with.");

    // Validation (4000xxx).
    public static JsonObject Generic(string reason) => Error(4000001, reason, new JsonObject { ["reason"] = reason });
    public static JsonObject MinLength(int min, int actual) => Error(4000003, $"length must be >= {min}, but got {actual}", new JsonObject { ["min_length"] = min, ["actual_length"] = actual });
    /// <summary>Kratos's <c>ErrCodeSubmittedTooOften</c> (a herodot 400, so 4000001 with its reason).</summary>
    public static JsonObject CodeSubmittedTooOften() => Generic("The request was submitted too often. Please request another code.");
    public static JsonObject Required(string property) => Error(4000002, $"Property {property} is missing.", new JsonObject { ["property"] = property });
    public static JsonObject InvalidEmail(string value) => Error(4000040, "Enter a valid email address", new JsonObject { ["value"] = value });
    public static JsonObject InvalidCredentials() => Error(4000006, "The provided credentials are invalid, check for spelling mistakes in your password or username, email address, or phone number.");
    public static JsonObject LinkProvider(string provider) => Info(1050002, $"Link {provider}", new JsonObject { ["provider"] = provider });
    public static JsonObject UnlinkProvider(string provider) => Info(1050003, $"Unlink {provider}", new JsonObject { ["provider"] = provider });

    public static JsonObject DuplicateCredentials() => Error(4000007, "An account with the same identifier (email, phone, username, ...) exists already.");

    /// <summary>
    /// 4000028 (Kratos's <c>NewErrorValidationDuplicateCredentialsWithHints</c>, with <c>login_hints</c> on): the duplicate
    /// names how the existing account signs in. Providers are title-cased as Go's <c>cases.Title</c> does
    /// (<see cref="GoTitleCase"/>), except placeholders in braces.
    /// </summary>
    public static JsonObject DuplicateCredentialsWithHints(IReadOnlyList<string> availableCredentialTypes, IReadOnlyList<string> availableOidcProviders, string identifierHint)
    {
        var text = $"You tried signing in with {(identifierHint.Length == 0 ? "an email, phone, or username" : identifierHint)} which is already in use by another account.";
        if (availableCredentialTypes.Count > 0)
        {
            var readable = availableCredentialTypes.Select(t => t switch
            {
                "password" => "your password",
                "oidc" or "saml" => "social sign in",
                "webauthn" => "your passkey or a security key",
                "passkey" => "your passkey",
                _ => null,
            }).OfType<string>().ToList();
            // Kratos shows at least the raw types when none has a name (e.g. only code).
            if (readable.Count == 0) readable.AddRange(availableCredentialTypes);
            readable = [.. readable.Distinct(StringComparer.Ordinal)];
            if (readable.Count > 1) readable[^1] = "or " + readable[^1];
            text += $" You can sign in using {string.Join(", ", readable)}.";
        }
        if (availableOidcProviders.Count > 0)
            text += $" You can sign in using one of the following social sign in providers: {string.Join(", ", availableOidcProviders.Select(p => p.AsSpan().ContainsAny('{', '}') ? p : GoTitleCase.Title(p)))}.";
        return Error(4000028, text, new JsonObject
        {
            ["available_credential_types"] = StringArray(availableCredentialTypes),
            ["available_oidc_providers"] = StringArray(availableOidcProviders),
            ["credential_identifier_hint"] = identifierHint,
        });
    }

    private static JsonArray StringArray(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode?)v)]);
    public static JsonObject IdentifierMissing() => Error(4000009, "Could not find any login identifiers. Did you forget to set them? This could also be caused by a server misconfiguration.");
    public static JsonObject PasswordTooSimilar() => Error(4000031, "The password can not be used because it is too similar to the identifier.");
    public static JsonObject PasswordMinLength(int min, int actual) => Error(4000032, $"The password must be at least {min} characters long, but got {actual}.", new JsonObject { ["min_length"] = min, ["actual_length"] = actual });
    public static JsonObject PasswordMaxLength(int max, int actual) => Error(4000033, $"The password must be at most {max} characters long, but got {actual}.", new JsonObject { ["max_length"] = max, ["actual_length"] = actual });
    public static JsonObject PasswordBreached(long breaches) => Error(4000034, "The password has been found in data breaches and must no longer be used.", new JsonObject { ["breaches"] = breaches });
    public static JsonObject PasswordPolicyGeneric(string reason) => Error(4000005, $"The password can not be used because {reason}.", new JsonObject { ["reason"] = reason });
    public static JsonObject LoginNoStrategy() => Error(4010002, "Could not find a strategy to log you in with. Did you fill out the form correctly?");
    /// <summary>4050002: the <c>verify_new_address</c> hook takes one changed address at a time (Kratos's <c>NewErrorValidationSettingsTooManyAddressChanges</c>).</summary>
    public static JsonObject SettingsTooManyAddressChanges() => Error(4050002, "You can only change one address at a time. Please update each address separately.");
    public static JsonObject SettingsNoStrategy() => Error(4010004, "Could not find a strategy to update your settings. Did you fill out the form correctly?");
    public static JsonObject RegistrationNoStrategy() => Error(4010003, "Could not find a strategy to sign you up with. Did you fill out the form correctly?");
    public static JsonObject IdentityDisabled() => Error(4010011, "This account has been disabled. Please contact support for assistance.");
    public static JsonObject LoginFlowExpired(DateTime expiredAt, DateTime now) => FlowExpired(4010001, "login", expiredAt, now);
    public static JsonObject RegistrationFlowExpired(DateTime expiredAt, DateTime now) => FlowExpired(4040001, "registration", expiredAt, now);
    public static JsonObject SettingsFlowExpired(DateTime expiredAt, DateTime now) => FlowExpired(4050001, "settings", expiredAt, now);
    public static JsonObject RecoveryFlowExpired(DateTime expiredAt, DateTime now) => FlowExpired(4060005, "recovery", expiredAt, now);
    public static JsonObject VerificationFlowExpired(DateTime expiredAt, DateTime now) => FlowExpired(4070005, "verification", expiredAt, now);

    /// <summary>
    /// The message an expired flow's replacement carries (Kratos's <c>NewErrorValidation*FlowExpired</c>): the minutes since
    /// it expired as Go's <c>%.2f</c>, and <c>expired_at</c> (RFC 3339, as Go writes a time) with <c>expired_at_unix</c> (seconds).
    /// </summary>
    private static JsonObject FlowExpired(long id, string kind, DateTime expiredAt, DateTime now)
    {
        var minutes = (now - expiredAt).TotalMinutes.ToString("0.00", CultureInfo.InvariantCulture);
        var utc = DateTime.SpecifyKind(expiredAt, DateTimeKind.Utc);
        return Error(id, $"The {kind} flow expired {minutes} minutes ago, please try again.", new JsonObject
        {
            ["expired_at"] = GoTimeJsonConverter.Format(utc),
            ["expired_at_unix"] = new DateTimeOffset(utc).ToUnixTimeSeconds(),
        });
    }

    /// <summary>
    /// A traits validation error as the UI message Kratos shows for its JSON Schema keyword, with the context Kratos's
    /// constructor gives it (<c>ui/container</c> <c>translateValidationError</c>): numbers as numbers, the allowed types as
    /// a list, and <c>reason</c> on the generic 4000001. Ory Elements words these messages from that context.
    /// </summary>
    public static JsonObject FromTraitsError(TraitsError e)
    {
        JsonNode? Raw(string key) => e.Context.TryGetValue(key, out var v) ? v switch
        {
            string t => JsonValue.Create(t),
            int i => JsonValue.Create((long)i),
            long l => JsonValue.Create(l),
            _ => JsonValue.Create(v.ToString()),
        } : null;
        // Kratos parses these limits into float64s, which Go's JSON writes as plain numbers (5, 5.5).
        JsonNode? Float(string key) => e.Context.TryGetValue(key, out var v)
            && double.TryParse(v.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? JsonValue.Create(d) : null;
        JsonObject Context(params (string Key, JsonNode? Value)[] entries)
        {
            var o = new JsonObject();
            foreach (var (key, value) in entries) o[key] = value;
            return o;
        }
        long Num(string key) => e.Context.TryGetValue(key, out var v) && long.TryParse(v.ToString(), out var n) ? n : 0;
        JsonObject Generic() => Error(4000001, e.Message, new JsonObject { ["reason"] = e.Message });
        return e.Keyword switch
        {
            "required" => Error(4000002, $"Property {e.Context.GetValueOrDefault("property")} is missing.", Context(("property", Raw("property")))),
            "minLength" => Error(4000003, $"length must be >= {Num("min_length")}, but got {Num("actual_length")}", Context(("min_length", Raw("min_length")), ("actual_length", Raw("actual_length")))),
            "maxLength" => Error(4000017, $"length must be <= {Num("max_length")}, but got {Num("actual_length")}", Context(("max_length", Raw("max_length")), ("actual_length", Raw("actual_length")))),
            "pattern" => Error(4000004, e.Message, Context(("pattern", Raw("pattern")))),
            "minimum" => Error(4000018, e.Message, Context(("minimum", Float("minimum")), ("actual", Float("actual")))),
            "exclusiveMinimum" => Error(4000019, e.Message, Context(("minimum", Float("minimum")), ("actual", Float("actual")))),
            "maximum" => Error(4000020, e.Message, Context(("maximum", Float("maximum")), ("actual", Float("actual")))),
            "exclusiveMaximum" => Error(4000021, e.Message, Context(("maximum", Float("maximum")), ("actual", Float("actual")))),
            "multipleOf" => Error(4000022, e.Message, Context(("base", Float("base")), ("actual", Float("actual")))),
            "maxItems" => Error(4000023, e.Message, Context(("max_items", Raw("max_items")), ("actual_items", Raw("actual_items")))),
            "minItems" => Error(4000024, e.Message, Context(("min_items", Raw("min_items")), ("actual_items", Raw("actual_items")))),
            "uniqueItems" => Error(4000025, e.Message, Context(("index_a", Raw("index_a")), ("index_b", Raw("index_b")))),
            "type" => Error(4000026, e.Message, Context(
                ("allowed_types", new JsonArray([.. (e.Context.GetValueOrDefault("expected_type")?.ToString() ?? "").Split(" or ").Select(t => (JsonNode?)JsonValue.Create(t))])),
                ("actual_type", Raw("actual_type")))),
            "const" when e.Context.ContainsKey("expected") => Error(4000029, e.Message, Context(("expected", Raw("expected")))),
            "const" => Error(4000030, "const failed"),
            "format" when e.Context.GetValueOrDefault("format") is "email" => Error(4000040, "Enter a valid email address", Context(("value", Raw("value")))),
            "format" when e.Context.GetValueOrDefault("format") is "tel" => Error(4000041, "Enter a valid phone number", Context(("value", Raw("value")))),
            _ => Generic(),
        };
    }

    // Gatehouse's own ids (429xxxx): rate limits and the hashing queue (docs/rate-limits.md). Kratos has no 429xxxx ids.
    public static JsonObject RateLimited(RateLimiting.RateLimitKind kind, int seconds) => Error(
        kind switch
        {
            RateLimiting.RateLimitKind.LoginPerIdentifier => 4290001,
            RateLimiting.RateLimitKind.LoginPerAddress => 4290002,
            RateLimiting.RateLimitKind.CodeAttemptsPerRecipient => 4290003,
            RateLimiting.RateLimitKind.MailsPerRecipient => 4290004,
            RateLimiting.RateLimitKind.FlowsPerAddress => 4290005,
            RateLimiting.RateLimitKind.SecondFactorPerIdentity => 4290008,
            RateLimiting.RateLimitKind.ClientRegistrationsPerAddress => 4290009,
            _ => 4290006,
        },
        kind switch
        {
            RateLimiting.RateLimitKind.LoginPerIdentifier => $"Too many failed sign-in attempts for this account. Please try again in {seconds} seconds.",
            RateLimiting.RateLimitKind.LoginPerAddress => $"Too many failed sign-in attempts from your network. Please try again in {seconds} seconds.",
            RateLimiting.RateLimitKind.CodeAttemptsPerRecipient => $"Too many wrong codes were entered for this address. Please try again in {seconds} seconds.",
            RateLimiting.RateLimitKind.MailsPerRecipient => $"Too many messages were sent to this address. Please try again in {seconds} seconds.",
            RateLimiting.RateLimitKind.FlowsPerAddress => $"Too many requests from your network. Please try again in {seconds} seconds.",
            RateLimiting.RateLimitKind.SecondFactorPerIdentity => $"Too many wrong authentication codes were entered for this account. Please try again in {seconds} seconds.",
            RateLimiting.RateLimitKind.ClientRegistrationsPerAddress => $"Too many OAuth2 clients were registered from your network. Please try again in {seconds} seconds.",
            _ => $"Too many requests with a missing or invalid API key. Please try again in {seconds} seconds.",
        },
        new JsonObject { ["retry_after_seconds"] = seconds });

    public static JsonObject ServerBusy(int seconds) =>
        Error(4290007, $"The server is busy. Please try again in {seconds} seconds.", new JsonObject { ["retry_after_seconds"] = seconds });
}
