using System.Collections.Frozen;
using System.Text.Json.Nodes;

namespace Gatehouse.Ui;

/// <summary>
/// The pages' texts in one language, chosen from <c>Accept-Language</c> among the languages with a translation
/// (English, German). Flow and node messages are shown with the server's (English) text unless the language has a
/// translation for the message id; messages whose text carries values (lengths, minutes) stay as the server wrote them.
/// </summary>
public sealed class UiText
{
    public const string English = "en";
    public const string German = "de";

    private readonly FrozenDictionary<string, string> _texts;
    private readonly FrozenDictionary<long, string> _messages;
    private readonly FrozenDictionary<long, string> _templates;

    private UiText(string language, FrozenDictionary<string, string> texts, FrozenDictionary<long, string> messages, FrozenDictionary<long, string> templates)
    {
        Language = language;
        _texts = texts;
        _messages = messages;
        _templates = templates;
    }

    /// <summary>The BCP 47 tag for <c>&lt;html lang&gt;</c> and <c>Content-Language</c>.</summary>
    public string Language { get; }

    /// <summary>A page text by key; English when this language lacks it.</summary>
    public string this[string key] => _texts.TryGetValue(key, out var t) ? t : EnglishTexts[key];

    /// <summary>A <c>uiText</c> message's text: the translation of its id when there is one, else its own text.</summary>
    public string Message(JsonNode? message)
    {
        if (message is null) return "";
        if (message["id"] is JsonValue id && id.TryGetValue<long>(out var number))
        {
            if (_messages.TryGetValue(number, out var translated)) return translated;
            if (_templates.TryGetValue(number, out var template) && Fill(template, message["context"] as JsonObject) is { } filled) return filled;
        }
        return message["text"] is JsonValue text && text.TryGetValue<string>(out var s) ? s : "";
    }

    /// <summary>A template's <c>{name}</c> placeholders filled from the message's context; null when a value is missing (the server's text is shown then).</summary>
    private static string? Fill(string template, JsonObject? context)
    {
        var result = new System.Text.StringBuilder();
        var at = 0;
        while (at < template.Length)
        {
            var open = template.IndexOf('{', at);
            if (open < 0) break;
            var close = template.IndexOf('}', open);
            if (close < 0) break;
            result.Append(template, at, open - at);
            if (context?[template[(open + 1)..close]] is not JsonValue v || !v.TryGetValue<string>(out var value)) return null;
            result.Append(value);
            at = close + 1;
        }
        return result.Append(template, at, template.Length - at).ToString();
    }

    /// <summary>The best language of <c>Accept-Language</c> (by quality, then order) that has texts; English otherwise.</summary>
    public static UiText For(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Http.AcceptLanguage.Best(request, [English, German]) == German ? De : En;
    }

    private static readonly Dictionary<string, string> EnglishTexts = new()
    {
        ["brand"] = "Gatehouse",
        ["skip"] = "Skip to content",
        ["login.title"] = "Sign in",
        ["login.refresh.title"] = "Confirm it's you",
        ["login.aal2.title"] = "Second factor",
        ["login.to-registration"] = "Don't have an account?",
        ["login.to-registration.link"] = "Sign up",
        ["login.to-recovery"] = "Forgot your password?",
        ["registration.title"] = "Create an account",
        ["registration.to-login"] = "Already have an account?",
        ["registration.to-login.link"] = "Sign in",
        ["settings.title"] = "Account settings",
        ["settings.group.profile"] = "Profile",
        ["settings.group.password"] = "Change password",
        ["settings.group.totp"] = "Authenticator app",
        ["settings.group.lookup_secret"] = "Backup recovery codes",
        ["lookup.used"] = "used",
        ["settings.group.passkey"] = "Passkeys",
        ["settings.group.webauthn"] = "Security keys",
        ["settings.group.oidc"] = "Social sign-in",
        ["webauthn.unsupported"] = "This browser cannot use passkeys or security keys. Please use another way to sign in, or another browser.",
        ["webauthn.noscript"] = "Passkeys and security keys need JavaScript, which is off in this browser. The other ways on this page work without it.",
        ["settings.group.code"] = "Code",
        ["verification.title"] = "Verify your email address",
        ["recovery.title"] = "Recover your account",
        ["back-to-login"] = "Back to sign in",
        ["back-to-welcome"] = "Back to your account",
        ["welcome.title"] = "Welcome",
        ["welcome.signed-in-as"] = "You are signed in as",
        ["welcome.session"] = "Session",
        ["welcome.session-id"] = "Session ID",
        ["welcome.authenticated-at"] = "Signed in at",
        ["welcome.expires-at"] = "Expires at",
        ["welcome.methods"] = "Authentication methods",
        ["welcome.aal"] = "Assurance level",
        ["welcome.identity"] = "Identity",
        ["welcome.identity-id"] = "Identity ID",
        ["welcome.schema"] = "Schema",
        ["welcome.traits"] = "Traits",
        ["welcome.addresses"] = "Email addresses",
        ["welcome.verified"] = "verified",
        ["welcome.unverified"] = "not verified",
        ["welcome.settings"] = "Account settings",
        ["welcome.verify"] = "Verify your email address",
        ["welcome.logout"] = "Log out",
        ["required"] = "required",
        ["error.title"] = "Something went wrong",
        ["error.text"] = "The request could not be completed.",
        ["error.csrf.title"] = "Your request could not be verified",
        ["error.csrf.text"] = "The form was sent without the security cookie of this browser, or it belongs to another session. This protects you from cross-site request forgery. Please start again in this browser.",
        ["error.forbidden.text"] = "This form belongs to another browser or account. Please start again.",
        ["error.code"] = "Status",
        ["error.id"] = "Error",
        ["error.reason"] = "Reason",
        ["error.message"] = "Message",
        ["error.unknown.text"] = "This error is not known, or it was deleted in the meantime.",
        ["error.start-again"] = "Start again",
        ["consent.title"] = "Allow access?",
        ["consent.intro"] = "wants to access your account.",
        ["consent.scopes"] = "It asks for",
        ["consent.scope.openid"] = "confirm who you are",
        ["consent.scope.offline_access"] = "stay connected when you are not using it",
        ["consent.scope.offline"] = "stay connected when you are not using it",
        ["consent.scope.email"] = "your email address",
        ["consent.scope.profile"] = "your name and profile",
        ["consent.scope.phone"] = "your phone number",
        ["consent.scope.address"] = "your postal address",
        ["consent.remember"] = "Remember my decision",
        ["consent.allow"] = "Allow",
        ["consent.deny"] = "Deny",
        ["consent.policy"] = "Privacy policy",
        ["consent.tos"] = "Terms of service",
        ["logout.title"] = "Log out?",
        ["logout.intro"] = "Do you want to log out?",
        ["logout.intro.client"] = "asks to log you out. Do you want to log out?",
        ["logout.accept"] = "Yes, log me out",
        ["logout.reject"] = "No, stay logged in",
        ["device.title"] = "Connect a device",
        ["device.intro"] = "Enter the code shown on your device.",
        ["device.user_code"] = "Code",
        ["device.submit"] = "Continue",
        ["device.missing"] = "Please enter the code shown on your device.",
        ["device.invalid"] = "This code is not valid or has expired. Check the code on your device and try again.",
        ["device.too_many"] = "Too many wrong codes. Open the link shown on your device again to start over.",
        ["device.expired"] = "This page has expired. Open the link shown on your device again.",
        ["device.done.title"] = "Device connected",
        ["device.done.client"] = "is now connected to your account.",
        ["device.done.text"] = "You can close this window and return to your device.",
        ["error.home"] = "Go to sign in",
        ["mailbox.title"] = "Dev mailbox",
        ["mailbox.intro"] = "Mail Gatehouse sent while it runs with --dev, newest first. This page does not exist outside --dev.",
        ["mailbox.empty"] = "No mail yet. Sign up, or ask for a verification or recovery code, and reload this page.",
        ["mailbox.no-subject"] = "(no subject)",
        ["mailbox.to"] = "To",
        ["mailbox.date"] = "Date",
        ["mailbox.status"] = "Status",
        ["mailbox.template"] = "Template",
        ["mailbox.body"] = "Message text",
        ["mailbox.back"] = "Back to the mailbox",
        ["mailbox.status.sent"] = "delivered",
        ["mailbox.status.queued"] = "queued",
        ["mailbox.status.abandoned"] = "abandoned",
    };

    private static readonly Dictionary<string, string> GermanTexts = new()
    {
        ["skip"] = "Zum Inhalt springen",
        ["login.title"] = "Anmelden",
        ["login.refresh.title"] = "Bestätigen Sie, dass Sie es sind",
        ["login.aal2.title"] = "Zweiter Faktor",
        ["login.to-registration"] = "Noch kein Konto?",
        ["login.to-registration.link"] = "Registrieren",
        ["login.to-recovery"] = "Passwort vergessen?",
        ["registration.title"] = "Konto erstellen",
        ["registration.to-login"] = "Sie haben bereits ein Konto?",
        ["registration.to-login.link"] = "Anmelden",
        ["settings.title"] = "Kontoeinstellungen",
        ["settings.group.profile"] = "Profil",
        ["settings.group.password"] = "Passwort ändern",
        ["settings.group.totp"] = "Authenticator-App",
        ["settings.group.lookup_secret"] = "Wiederherstellungscodes",
        ["lookup.used"] = "verwendet",
        ["settings.group.passkey"] = "Passkeys",
        ["settings.group.webauthn"] = "Sicherheitsschlüssel",
        ["settings.group.oidc"] = "Anmeldung über andere Konten",
        ["webauthn.unsupported"] = "Dieser Browser kann keine Passkeys oder Sicherheitsschlüssel verwenden. Bitte melden Sie sich auf anderem Weg oder mit einem anderen Browser an.",
        ["webauthn.noscript"] = "Passkeys und Sicherheitsschlüssel benötigen JavaScript, das in diesem Browser ausgeschaltet ist. Die anderen Wege auf dieser Seite funktionieren ohne.",
        ["verification.title"] = "E-Mail-Adresse bestätigen",
        ["recovery.title"] = "Konto wiederherstellen",
        ["back-to-login"] = "Zurück zur Anmeldung",
        ["back-to-welcome"] = "Zurück zu Ihrem Konto",
        ["welcome.title"] = "Willkommen",
        ["welcome.signed-in-as"] = "Sie sind angemeldet als",
        ["welcome.session"] = "Sitzung",
        ["welcome.session-id"] = "Sitzungs-ID",
        ["welcome.authenticated-at"] = "Angemeldet am",
        ["welcome.expires-at"] = "Läuft ab am",
        ["welcome.methods"] = "Anmeldemethoden",
        ["welcome.aal"] = "Vertrauensstufe",
        ["welcome.identity"] = "Identität",
        ["welcome.identity-id"] = "Identitäts-ID",
        ["welcome.schema"] = "Schema",
        ["welcome.traits"] = "Merkmale",
        ["welcome.addresses"] = "E-Mail-Adressen",
        ["welcome.verified"] = "bestätigt",
        ["welcome.unverified"] = "nicht bestätigt",
        ["welcome.settings"] = "Kontoeinstellungen",
        ["welcome.verify"] = "E-Mail-Adresse bestätigen",
        ["welcome.logout"] = "Abmelden",
        ["required"] = "erforderlich",
        ["error.title"] = "Etwas ist schiefgelaufen",
        ["error.text"] = "Die Anfrage konnte nicht abgeschlossen werden.",
        ["error.csrf.title"] = "Ihre Anfrage konnte nicht überprüft werden",
        ["error.csrf.text"] = "Das Formular wurde ohne das Sicherheits-Cookie dieses Browsers gesendet oder gehört zu einer anderen Sitzung. Das schützt Sie vor Cross-Site-Request-Forgery. Bitte beginnen Sie in diesem Browser von vorn.",
        ["error.forbidden.text"] = "Dieses Formular gehört zu einem anderen Browser oder Konto. Bitte beginnen Sie von vorn.",
        ["error.code"] = "Status",
        ["error.id"] = "Fehler",
        ["error.reason"] = "Grund",
        ["error.message"] = "Meldung",
        ["error.unknown.text"] = "Dieser Fehler ist nicht bekannt oder wurde inzwischen gelöscht.",
        ["error.start-again"] = "Von vorn beginnen",
        ["consent.title"] = "Zugriff erlauben?",
        ["consent.intro"] = "möchte auf Ihr Konto zugreifen.",
        ["consent.scopes"] = "Angefragt wird",
        ["consent.scope.openid"] = "Ihre Identität bestätigen",
        ["consent.scope.offline_access"] = "verbunden bleiben, auch wenn Sie die Anwendung nicht nutzen",
        ["consent.scope.offline"] = "verbunden bleiben, auch wenn Sie die Anwendung nicht nutzen",
        ["consent.scope.email"] = "Ihre E-Mail-Adresse",
        ["consent.scope.profile"] = "Ihr Name und Profil",
        ["consent.scope.phone"] = "Ihre Telefonnummer",
        ["consent.scope.address"] = "Ihre Postanschrift",
        ["consent.remember"] = "Entscheidung merken",
        ["consent.allow"] = "Erlauben",
        ["consent.deny"] = "Ablehnen",
        ["consent.policy"] = "Datenschutzerklärung",
        ["consent.tos"] = "Nutzungsbedingungen",
        ["logout.title"] = "Abmelden?",
        ["logout.intro"] = "Möchten Sie sich abmelden?",
        ["logout.intro.client"] = "möchte Sie abmelden. Möchten Sie sich abmelden?",
        ["logout.accept"] = "Ja, abmelden",
        ["logout.reject"] = "Nein, angemeldet bleiben",
        ["device.title"] = "Gerät verbinden",
        ["device.intro"] = "Geben Sie den Code ein, den Ihr Gerät anzeigt.",
        ["device.user_code"] = "Code",
        ["device.submit"] = "Weiter",
        ["device.missing"] = "Bitte geben Sie den Code ein, den Ihr Gerät anzeigt.",
        ["device.invalid"] = "Dieser Code ist ungültig oder abgelaufen. Prüfen Sie den Code auf Ihrem Gerät und versuchen Sie es erneut.",
        ["device.too_many"] = "Zu viele falsche Codes. Öffnen Sie den Link, den Ihr Gerät anzeigt, erneut, um von vorn zu beginnen.",
        ["device.expired"] = "Diese Seite ist abgelaufen. Öffnen Sie den Link, den Ihr Gerät anzeigt, erneut.",
        ["device.done.title"] = "Gerät verbunden",
        ["device.done.client"] = "ist jetzt mit Ihrem Konto verbunden.",
        ["device.done.text"] = "Sie können dieses Fenster schließen und zu Ihrem Gerät zurückkehren.",
        ["error.home"] = "Zur Anmeldung",
        ["mailbox.title"] = "Entwicklungs-Postfach",
        ["mailbox.intro"] = "E-Mails, die Gatehouse im Modus --dev gesendet hat, die neuesten zuerst. Außerhalb von --dev gibt es diese Seite nicht.",
        ["mailbox.empty"] = "Noch keine E-Mails. Registrieren Sie sich oder fordern Sie einen Bestätigungs- oder Wiederherstellungscode an und laden Sie diese Seite neu.",
        ["mailbox.no-subject"] = "(kein Betreff)",
        ["mailbox.to"] = "An",
        ["mailbox.date"] = "Datum",
        ["mailbox.status"] = "Status",
        ["mailbox.template"] = "Vorlage",
        ["mailbox.body"] = "Nachrichtentext",
        ["mailbox.back"] = "Zurück zum Postfach",
        ["mailbox.status.sent"] = "zugestellt",
        ["mailbox.status.queued"] = "in der Warteschlange",
        ["mailbox.status.abandoned"] = "aufgegeben",
    };

    // Kratos's message ids whose English text carries no values.
    private static readonly Dictionary<long, string> GermanMessages = new()
    {
        [1010001] = "Anmelden",
        [1010003] = "Bitte bestätigen Sie diese Aktion, indem Sie sich erneut anmelden.",
        [1010004] = "Bitte bestätigen Sie die Anmeldung mit Ihrem zweiten Faktor.",
        [1010006] = "Authentifizierungscode",
        [1010008] = "Mit Sicherheitsschlüssel anmelden",
        [1010009] = "Authenticator-App verwenden",
        [1010012] = "Halten Sie Ihr WebAuthn-Gerät bereit (z. B. Sicherheitsschlüssel oder Fingerabdrucksensor) und fahren Sie fort.",
        [1010013] = "Weiter",
        [1010014] = "Ein Code wurde an die angegebene Adresse gesendet. Falls er nicht ankommt, prüfen Sie die Schreibweise der Adresse und versuchen Sie es erneut.",
        [1010015] = "Anmeldecode senden",
        [1010021] = "Mit Passkey anmelden",
        [1010022] = "Mit Passwort anmelden",
        [1040001] = "Registrieren",
        [1040005] = "Ein Code wurde an die angegebene(n) Adresse(n) gesendet. Falls keine Nachricht ankommt, prüfen Sie die Schreibweise der Adresse und wiederholen Sie die Registrierung.",
        [1040006] = "Registrierungscode senden",
        [1040007] = "Mit Passkey registrieren",
        [1040008] = "Zurück",
        [1040009] = "Bitte wählen Sie ein Anmeldeverfahren.",
        [1050001] = "Ihre Änderungen wurden gespeichert.",
        [1050004] = "Authenticator-App entfernen",
        [1050005] = "QR-Code für die Authenticator-App",
        [1010007] = "Wiederherstellungscode",
        [1010010] = "Wiederherstellungscode verwenden",
        [1050007] = "Wiederherstellungscodes anzeigen",
        [1050008] = "Neue Wiederherstellungscodes erzeugen",
        [1050010] = "Dies sind Ihre Wiederherstellungscodes. Bewahren Sie sie an einem sicheren Ort auf!",
        [1050011] = "Wiederherstellungscodes bestätigen",
        [1050016] = "Diese Methode deaktivieren",
        [4000012] = "Dieser Wiederherstellungscode wurde bereits verwendet.",
        [4000014] = "Sie haben keine Wiederherstellungscodes eingerichtet.",
        [4000016] = "Der Wiederherstellungscode ist ungültig.",
        [1050019] = "Passkey hinzufügen",
        [1050017] = "Dies ist der geheime Schlüssel für Ihre Authenticator-App. Verwenden Sie ihn, wenn Sie den QR-Code nicht scannen können.",
        [1060003] = "Eine E-Mail mit einem Wiederherstellungscode wurde an die angegebene Adresse gesendet. Falls keine E-Mail ankommt, prüfen Sie die Schreibweise und verwenden Sie die Adresse, mit der Sie sich registriert haben.",
        [1060005] = "Stellen Sie den Zugang zu Ihrem Konto wieder her, indem Sie Ihre Wiederherstellungsadresse vollständig angeben.",
        [1060006] = "Wie möchten Sie Ihr Konto wiederherstellen?",
        [1060007] = "Zurück",
        [1070016] = "Wiederherstellungsadresse",
        [1070017] = "Telefonnummer",
        [1070001] = "Passwort",
        [1070003] = "Speichern",
        [1070004] = "ID",
        [1070005] = "Absenden",
        [1070007] = "E-Mail",
        [1070008] = "Code erneut senden",
        [1070009] = "Weiter",
        [1070010] = "Wiederherstellungscode",
        [1070011] = "Bestätigungscode",
        [1070006] = "Code bestätigen",
        [1070012] = "Registrierungscode",
        [1070013] = "Anmeldecode",
        [4010010] = "Die eingegebene Adresse passt zu keiner bekannten Adresse dieses Kontos.",
        [1080002] = "Sie haben Ihre E-Mail-Adresse erfolgreich bestätigt.",
        [1080003] = "Eine E-Mail mit einem Bestätigungscode wurde an die angegebene Adresse gesendet. Falls keine E-Mail ankommt, prüfen Sie die Schreibweise und verwenden Sie die Adresse, mit der Sie sich registriert haben.",
        [4000006] = "Die Anmeldedaten sind ungültig. Prüfen Sie Passwort und Benutzername, E-Mail-Adresse oder Telefonnummer auf Tippfehler.",
        [4000008] = "Der Authentifizierungscode ist ungültig. Bitte versuchen Sie es erneut.",
        [4000011] = "Sie haben keine Authenticator-App eingerichtet.",
        [4000015] = "Dieses Konto existiert nicht oder hat keinen Sicherheitsschlüssel eingerichtet.",
        [4000007] = "Ein Konto mit derselben Kennung (E-Mail, Telefon, Benutzername, …) existiert bereits.",
        [4000031] = "Das Passwort kann nicht verwendet werden, weil es der Kennung zu ähnlich ist.",
        [4000034] = "Das Passwort wurde in Datenlecks gefunden und darf nicht mehr verwendet werden.",
        [4000035] = "Dieses Konto existiert nicht oder hat die Anmeldung per Code nicht eingerichtet.",
        [4000037] = "Dieses Konto existiert nicht oder hat keine Anmeldemethode eingerichtet.",
        [4000036] = "Die angegebenen Merkmale stimmen nicht mit denen überein, die zuvor mit diesem Vorgang verknüpft wurden.",
        [4000039] = "Das neue Passwort muss sich vom alten unterscheiden.",
        [4010008] = "Der Anmeldecode ist ungültig oder wurde bereits verwendet. Bitte versuchen Sie es erneut.",
        [4040003] = "Der Registrierungscode ist ungültig oder wurde bereits verwendet. Bitte versuchen Sie es erneut.",
        [4060006] = "Der Wiederherstellungscode ist ungültig oder wurde bereits verwendet. Bitte versuchen Sie es erneut.",
        [4070006] = "Der Bestätigungscode ist ungültig oder wurde bereits verwendet. Bitte versuchen Sie es erneut.",
        [4010011] = "Dieses Konto wurde deaktiviert. Bitte wenden Sie sich an den Support.",
        [1040003] = "Weiter",
        [1010017] = "Anmelden und verknüpfen",
        [4000027] = "Ein Konto mit derselben Kennung (E-Mail, Telefon, Benutzername, …) existiert bereits.",
        [4010009] = "Die verknüpften Anmeldedaten stimmen nicht überein.",
    };

    // Kratos's message ids whose text carries values: {name} is the value of the message context's key.
    private static readonly Dictionary<long, string> GermanTemplates = new()
    {
        [1010002] = "Anmelden mit {provider}",
        [1040002] = "Registrieren mit {provider}",
        [1010016] = "Sie wollten sich mit „{duplicate_identifier}“ anmelden, aber diese E-Mail-Adresse gehört bereits zu einem anderen Konto. Melden Sie sich mit einer der folgenden Möglichkeiten bei Ihrem Konto an, um Ihr Konto „{duplicate_identifier}“ bei „{provider}“ als weitere Anmeldemöglichkeit hinzuzufügen.",
        [1010018] = "Mit {provider} bestätigen",
        [1050002] = "{provider} verknüpfen",
        [1050003] = "Verknüpfung mit {provider} aufheben",
        [1060004] = "Ein Wiederherstellungscode wurde an {masked_address} gesendet. Falls er nicht ankommt, prüfen Sie die Schreibweise und verwenden Sie die Adresse, mit der Sie sich registriert haben.",
    };

    // Declared after the tables: static fields initialise in textual order.
    public static readonly UiText En = new(English, EnglishTexts.ToFrozenDictionary(), FrozenDictionary<long, string>.Empty, FrozenDictionary<long, string>.Empty);
    public static readonly UiText De = new(German, GermanTexts.ToFrozenDictionary(), GermanMessages.ToFrozenDictionary(), GermanTemplates.ToFrozenDictionary());
}
