namespace Gatehouse.Courier.Templates;

/// <summary>
/// The default e-mail texts, one per template type, in Liquid syntax with Kratos's variable names. They say what
/// Kratos's built-in templates say, in Gatehouse's own words.
/// </summary>
internal static class BuiltinTemplates
{
    public sealed record Email(string Subject, string Plaintext, string Html);

    private const string UnknownAddress =
        "you (or someone else) entered this email address while trying to {0}. This address is not linked to any account " +
        "here, so nothing happened. If it was you, you may have signed up with a different email address. " +
        "If it was not you, you can safely ignore this email.";

    public static Email For(CourierTemplateType type) => type.Name switch
    {
        "recovery_valid" => Make("Recover access to your account",
            "To recover access to your account, open this link:", "{{ RecoveryURL }}", link: true),
        "recovery_invalid" => Invalid("Account access attempted", "recover access to an account"),
        "recovery_code_valid" => Make("Recover access to your account",
            "To recover access to your account, enter this code:", "{{ RecoveryCode }}", link: false),
        "recovery_code_invalid" => Invalid("Account access attempted", "recover access to an account"),
        "verification_valid" => Make("Please verify your email address",
            "To verify your account, open this link:", "{{ VerificationURL }}", link: true),
        "verification_invalid" => Invalid("Someone tried to verify this email address", "verify an account"),
        "verification_code_valid" => VerificationCode(),
        "verification_code_invalid" => Invalid("Someone tried to verify this email address", "verify an account"),
        "login_code_valid" => Make("Login to your account",
            "To sign in, enter this code:", "{{ LoginCode }}", link: false),
        "registration_code_valid" => Make("Complete your account registration",
            "To finish signing up, enter this code:", "{{ RegistrationCode }}", link: false),
        _ => throw new ArgumentException($"no built-in template for {type.Name}", nameof(type)),
    };

    /// <summary>
    /// The SMS text of the types Kratos sends by SMS (the one-time codes), or null: a code and how long it lasts, then
    /// the WebOTP line (<c>@domain #code</c>) browsers use to offer the code when the flow's domain is known.
    /// </summary>
    public static string? Sms(CourierTemplateType type) => type.Name switch
    {
        "login_code_valid" => SmsCode("sign-in", "LoginCode"),
        "registration_code_valid" => SmsCode("sign-up", "RegistrationCode"),
        "verification_code_valid" => SmsCode("verification", "VerificationCode"),
        "recovery_code_valid" => SmsCode("recovery", "RecoveryCode"),
        _ => null,
    };

    private static string SmsCode(string what, string code) =>
        $"{{{{ {code} }}}} is your {what} code.{{% if ExpiresInMinutes %}} It expires in {{{{ ExpiresInMinutes }}}} minutes.{{% endif %}}\n" +
        $"{{% if RequestURLDomain %}}\n@{{{{ RequestURLDomain }}}} #{{{{ {code} }}}}\n{{% endif %}}";

    private static Email Make(string subject, string lead, string value, bool link) => new(
        subject,
        $"Hi,\n\n{lead}\n\n{value}\n",
        link
            ? $"<p>Hi,</p>\n<p>{lead}</p>\n<p><a href=\"{value}\">{value}</a></p>\n"
            : $"<p>Hi,</p>\n<p>{lead}</p>\n<p><strong>{value}</strong></p>\n");

    private static Email VerificationCode() => new(
        "Please verify your email address",
        "Hi,\n\nTo verify your account, enter this code:\n\n{{ VerificationCode }}\n\nor open this link:\n\n{{ VerificationURL }}\n",
        "<p>Hi,</p>\n<p>To verify your account, enter this code:</p>\n<p><strong>{{ VerificationCode }}</strong></p>\n" +
        "<p>or open this link: <a href=\"{{ VerificationURL }}\">{{ VerificationURL }}</a></p>\n");

    private static Email Invalid(string subject, string attempt)
    {
        var text = string.Format(System.Globalization.CultureInfo.InvariantCulture, UnknownAddress, attempt);
        return new Email(subject, $"Hi,\n\n{text}\n", $"<p>Hi,</p>\n<p>{text}</p>\n");
    }
}
