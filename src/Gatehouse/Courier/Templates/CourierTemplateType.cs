namespace Gatehouse.Courier.Templates;

/// <summary>
/// A message type Kratos sends, e.g. <c>verification_code_valid</c>: its template group in <c>courier.templates</c>
/// and in <c>template_override_path</c> (<c>verification_code</c>) and whether it is the <c>valid</c> or <c>invalid</c> variant
/// (empty for a notice without variants, <c>verifiable_address_changed</c>: its keys and folder have no variant level).
/// </summary>
public sealed record CourierTemplateType(string Name, string Group, string Variant)
{
    public static readonly CourierTemplateType RecoveryValid = new("recovery_valid", "recovery", "valid");
    public static readonly CourierTemplateType RecoveryInvalid = new("recovery_invalid", "recovery", "invalid");
    public static readonly CourierTemplateType RecoveryCodeValid = new("recovery_code_valid", "recovery_code", "valid");
    public static readonly CourierTemplateType RecoveryCodeInvalid = new("recovery_code_invalid", "recovery_code", "invalid");
    public static readonly CourierTemplateType VerificationValid = new("verification_valid", "verification", "valid");
    public static readonly CourierTemplateType VerificationInvalid = new("verification_invalid", "verification", "invalid");
    public static readonly CourierTemplateType VerificationCodeValid = new("verification_code_valid", "verification_code", "valid");
    public static readonly CourierTemplateType VerificationCodeInvalid = new("verification_code_invalid", "verification_code", "invalid");
    public static readonly CourierTemplateType LoginCodeValid = new("login_code_valid", "login_code", "valid");
    public static readonly CourierTemplateType RegistrationCodeValid = new("registration_code_valid", "registration_code", "valid");
    public static readonly CourierTemplateType VerifiableAddressChanged = new("verifiable_address_changed", "verifiable_address_changed", "");

    public static readonly IReadOnlyList<CourierTemplateType> All =
    [
        RecoveryValid, RecoveryInvalid, RecoveryCodeValid, RecoveryCodeInvalid,
        VerificationValid, VerificationInvalid, VerificationCodeValid, VerificationCodeInvalid,
        LoginCodeValid, RegistrationCodeValid, VerifiableAddressChanged,
    ];

    public static CourierTemplateType Parse(string name) =>
        All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"unknown courier template type \"{name}\"; expected one of {string.Join(", ", All.Select(t => t.Name))}", nameof(name));
}
