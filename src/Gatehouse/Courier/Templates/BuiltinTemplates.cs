namespace Gatehouse.Courier.Templates;

/// <summary>
/// The default e-mail and SMS texts, one per template type and language (English, German), in Liquid syntax with
/// Kratos's variable names. They say what Kratos's built-in templates say, in Gatehouse's own words.
/// </summary>
internal static class BuiltinTemplates
{
    /// <summary>The languages with built-in texts; the first is the default.</summary>
    public static readonly IReadOnlyList<string> Languages = ["en", "de"];

    public sealed record Email(string Subject, string Plaintext, string Html);

    private const string UnknownAddress =
        "you (or someone else) entered this email address while trying to {0}. This address is not linked to any account " +
        "here, so nothing happened. If it was you, you may have signed up with a different email address. " +
        "If it was not you, you can safely ignore this email.";

    /// <summary>The e-mail of <paramref name="type"/> in <paramref name="language"/> (<c>en</c> or <c>de</c>; anything else: English).</summary>
    public static Email For(CourierTemplateType type, string language) => language == "de" ? German(type) : For(type);

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
        "verifiable_address_changed" => Notice("An email address or phone number of your account changed",
            "Hi,", "An email address or phone number of your account was changed{% if ChangedAt %} at {{ ChangedAt }}{% endif %}. " +
            "If you made this change, there is nothing to do.", "If you did not, contact support right away: someone else may have access to your account."),
        _ => throw new ArgumentException($"no built-in template for {type.Name}", nameof(type)),
    };

    /// <summary>
    /// The SMS text of the types Kratos sends by SMS, or null. The one-time codes: a code and how long it lasts, then the
    /// WebOTP line (<c>@domain #code</c>) browsers use to offer the code when the flow's domain is known; and the notice of
    /// a changed address.
    /// </summary>
    public static string? Sms(CourierTemplateType type, string language) => language == "de"
        ? type.Name switch
        {
            "login_code_valid" => SmsCodeDe("Anmeldecode", "LoginCode"),
            "registration_code_valid" => SmsCodeDe("Registrierungscode", "RegistrationCode"),
            "verification_code_valid" => SmsCodeDe("Bestätigungscode", "VerificationCode"),
            "recovery_code_valid" => SmsCodeDe("Wiederherstellungscode", "RecoveryCode"),
            "verifiable_address_changed" => "Eine E-Mail-Adresse oder Telefonnummer Ihres Kontos wurde geändert. Falls Sie das nicht waren, wenden Sie sich an den Support.",
            _ => null,
        }
        : Sms(type);

    public static string? Sms(CourierTemplateType type) => type.Name switch
    {
        "login_code_valid" => SmsCode("sign-in", "LoginCode"),
        "registration_code_valid" => SmsCode("sign-up", "RegistrationCode"),
        "verification_code_valid" => SmsCode("verification", "VerificationCode"),
        "recovery_code_valid" => SmsCode("recovery", "RecoveryCode"),
        "verifiable_address_changed" => "An email address or phone number of your account was changed. If this was not you, contact support.",
        _ => null,
    };

    private static string SmsCode(string what, string code) =>
        $"{{{{ {code} }}}} is your {what} code.{{% if ExpiresInMinutes %}} It expires in {{{{ ExpiresInMinutes }}}} minutes.{{% endif %}}\n" +
        $"{{% if RequestURLDomain %}}\n@{{{{ RequestURLDomain }}}} #{{{{ {code} }}}}\n{{% endif %}}";

    private static string SmsCodeDe(string what, string code) =>
        $"{{{{ {code} }}}} ist Ihr {what}.{{% if ExpiresInMinutes %}} Er ist {{{{ ExpiresInMinutes }}}} Minuten gültig.{{% endif %}}\n" +
        $"{{% if RequestURLDomain %}}\n@{{{{ RequestURLDomain }}}} #{{{{ {code} }}}}\n{{% endif %}}";

    private const string UnknownAddressDe =
        "Sie (oder jemand anderes) haben diese E-Mail-Adresse angegeben, um {0}. Diese Adresse gehört hier zu keinem Konto, " +
        "daher ist nichts geschehen. Falls Sie es waren, haben Sie sich vielleicht mit einer anderen E-Mail-Adresse " +
        "registriert. Falls nicht, können Sie diese E-Mail ignorieren.";

    private static Email German(CourierTemplateType type) => type.Name switch
    {
        "recovery_valid" => Make("Zugang zu Ihrem Konto wiederherstellen",
            "Um den Zugang zu Ihrem Konto wiederherzustellen, öffnen Sie diesen Link:", "{{ RecoveryURL }}", link: true, greeting: "Hallo,"),
        "recovery_invalid" => InvalidDe("Versuchter Kontozugriff", "den Zugang zu einem Konto wiederherzustellen"),
        "recovery_code_valid" => Make("Zugang zu Ihrem Konto wiederherstellen",
            "Um den Zugang zu Ihrem Konto wiederherzustellen, geben Sie diesen Code ein:", "{{ RecoveryCode }}", link: false, greeting: "Hallo,"),
        "recovery_code_invalid" => InvalidDe("Versuchter Kontozugriff", "den Zugang zu einem Konto wiederherzustellen"),
        "verification_valid" => Make("Bitte bestätigen Sie Ihre E-Mail-Adresse",
            "Um Ihr Konto zu bestätigen, öffnen Sie diesen Link:", "{{ VerificationURL }}", link: true, greeting: "Hallo,"),
        "verification_invalid" => InvalidDe("Jemand wollte diese E-Mail-Adresse bestätigen", "ein Konto zu bestätigen"),
        "verification_code_valid" => new(
            "Bitte bestätigen Sie Ihre E-Mail-Adresse",
            "Hallo,\n\nUm Ihr Konto zu bestätigen, geben Sie diesen Code ein:\n\n{{ VerificationCode }}\n\noder öffnen Sie diesen Link:\n\n{{ VerificationURL }}\n",
            "<p>Hallo,</p>\n<p>Um Ihr Konto zu bestätigen, geben Sie diesen Code ein:</p>\n<p><strong>{{ VerificationCode }}</strong></p>\n" +
            "<p>oder öffnen Sie diesen Link: <a href=\"{{ VerificationURL }}\">{{ VerificationURL }}</a></p>\n"),
        "verification_code_invalid" => InvalidDe("Jemand wollte diese E-Mail-Adresse bestätigen", "ein Konto zu bestätigen"),
        "login_code_valid" => Make("Anmeldung bei Ihrem Konto",
            "Um sich anzumelden, geben Sie diesen Code ein:", "{{ LoginCode }}", link: false, greeting: "Hallo,"),
        "registration_code_valid" => Make("Schließen Sie Ihre Registrierung ab",
            "Um Ihre Registrierung abzuschließen, geben Sie diesen Code ein:", "{{ RegistrationCode }}", link: false, greeting: "Hallo,"),
        "verifiable_address_changed" => Notice("Eine E-Mail-Adresse oder Telefonnummer Ihres Kontos wurde geändert",
            "Hallo,", "Eine E-Mail-Adresse oder Telefonnummer Ihres Kontos wurde{% if ChangedAt %} am {{ ChangedAt }}{% endif %} geändert. " +
            "Falls Sie das waren, ist nichts weiter zu tun.", "Falls nicht, wenden Sie sich bitte sofort an den Support: Möglicherweise hat jemand anderes Zugriff auf Ihr Konto."),
        _ => For(type),
    };

    private static Email InvalidDe(string subject, string attempt)
    {
        var text = string.Format(System.Globalization.CultureInfo.InvariantCulture, UnknownAddressDe, attempt);
        return new Email(subject, $"Hallo,\n\n{text}\n", $"<p>Hallo,</p>\n<p>{text}</p>\n");
    }

    private static Email Make(string subject, string lead, string value, bool link, string greeting = "Hi,") => new(
        subject,
        $"{greeting}\n\n{lead}\n\n{value}\n",
        link
            ? $"<p>{greeting}</p>\n<p>{lead}</p>\n<p><a href=\"{value}\">{value}</a></p>\n"
            : $"<p>{greeting}</p>\n<p>{lead}</p>\n<p><strong>{value}</strong></p>\n");

    /// <summary>A notice without a code or link: the greeting, what happened, what to do if it was not the reader.</summary>
    private static Email Notice(string subject, string greeting, string what, string ifNot) => new(
        subject,
        $"{greeting}\n\n{what}\n\n{ifNot}\n",
        $"<p>{greeting}</p>\n<p>{what}</p>\n<p>{ifNot}</p>\n");

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
