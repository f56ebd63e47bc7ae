using System.Text.Json;
using Json.Schema;

namespace Gatehouse.Schemas;

/// <summary>
/// Derives credential identifiers and addresses from valid traits, following the <c>ory.sh/kratos</c>
/// annotations the evaluation left on each value (Kratos's <c>SchemaExtensionCredentials</c>,
/// <c>SchemaExtensionVerification</c> and <c>SchemaExtensionRecovery</c>).
/// </summary>
internal sealed class TraitsExtensionRunner
{
    private readonly Dictionary<string, List<string>> _identifiers = new(StringComparer.Ordinal);
    private readonly List<AddressSpec> _codeAddresses = [];
    private readonly List<AddressSpec> _verifiable = [];
    private readonly List<AddressSpec> _recovery = [];
    private readonly List<TraitsError> _errors = [];
    private string? _totpAccountName;
    private string? _passkeyDisplayName;

    public static TraitsValidationResult Run(EvaluationResults results, JsonElement instance)
    {
        var runner = new TraitsExtensionRunner();
        var seen = new HashSet<(string, string)>();
        foreach (var detail in Annotated(results))
        {
            if (detail.Annotations is null || !detail.Annotations.TryGetValue(TraitExtension.Keyword, out var raw))
            {
                continue;
            }

            var pointer = detail.InstanceLocation.ToString();
            if (!seen.Add((pointer, raw.GetRawText())))
            {
                continue; // the same subschema reached twice, e.g. through allOf
            }

            var format = detail.Annotations.TryGetValue("format", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
            var extension = TraitExtension.From(System.Text.Json.Nodes.JsonNode.Parse(raw.GetRawText()));
            runner.Apply("#" + pointer, TraitsErrorMapper.Resolve(instance, pointer), extension, format);
        }

        return runner.Finish();
    }

    private static IEnumerable<EvaluationResults> Annotated(EvaluationResults results)
    {
        yield return results;
        foreach (var detail in results.Details ?? [])
        {
            foreach (var nested in Annotated(detail))
            {
                yield return nested;
            }
        }
    }

    private void Apply(string pointer, JsonElement? value, TraitExtension extension, string? format)
    {
        var values = value switch
        {
            { ValueKind: JsonValueKind.String } s => [s.GetString()!],
            { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList(),
            _ => new List<string>(),
        };

        foreach (var text in values)
        {
            if (extension.PasswordIdentifier)
            {
                AddIdentifier("password", IdentifierNormalizer.Graceful(text));
            }

            if (extension.WebAuthnIdentifier)
            {
                AddIdentifier("webauthn", IdentifierNormalizer.Graceful(text));
            }

            if (extension.CodeIdentifier)
            {
                ApplyCode(pointer, text, extension.CodeVia, format);
            }

            if (extension.TotpAccountName)
            {
                _totpAccountName ??= text;
            }

            if (extension.PasskeyDisplayName)
            {
                _passkeyDisplayName ??= text;
            }

            if (extension.VerificationVia is { } verificationVia)
            {
                ApplyAddress(_verifiable, pointer, text, verificationVia, format);
            }

            if (extension.RecoveryVia is { } recoveryVia)
            {
                ApplyAddress(_recovery, pointer, text, recoveryVia, format);
            }
        }
    }

    private void ApplyCode(string pointer, string text, string? via, string? format)
    {
        via ??= format switch
        {
            "email" => "email",
            "tel" => "sms",
            _ => null,
        };

        switch (via)
        {
            case "email" when format is not null && format != "email":
                // Kratos's exception: a deliberately non-email format is normalised gracefully, not checked.
                AddCode(IdentifierNormalizer.Graceful(text), "email");
                break;
            case "email":
                if (IdentifierNormalizer.TryNormalizeEmail(text, out var email))
                {
                    AddCode(email, "email");
                }
                else
                {
                    Fail(pointer, "format", $"{TraitsErrorMapper.Quote(text)} is not a valid \"email\"", "email", text);
                }

                break;
            case "sms":
                if (IdentifierNormalizer.TryNormalizePhone(text, out var phone))
                {
                    AddCode(phone, "sms");
                }
                else
                {
                    // Kratos returns the normaliser's Go error as a plain validation error: the generic 4000001 with
                    // that text (a `format: tel` on the trait adds its own 4000041 beside it).
                    _errors.Add(new TraitsError(pointer, IdentifierNormalizer.PhoneRefusal(text), ""));
                }

                break;
            default:
                _errors.Add(new TraitsError(pointer, $"credentials.code.via has unknown value {TraitsErrorMapper.Quote(via ?? "")}", ""));
                break;
        }
    }

    private void AddCode(string address, string channel)
    {
        AddIdentifier("code", address);
        var spec = new AddressSpec(address, channel);
        if (!_codeAddresses.Contains(spec))
        {
            _codeAddresses.Add(spec);
        }
    }

    private void ApplyAddress(List<AddressSpec> target, string pointer, string text, string via, string? format)
    {
        string? normalized;
        if (via == "email")
        {
            normalized = KratosFormats.IsEmail(text) ? IdentifierNormalizer.Canonicalize(text) : null;
            if (normalized is null)
            {
                Fail(pointer, "format", $"{TraitsErrorMapper.Quote(text)} is not valid \"email\"", "email", text);
                return;
            }
        }
        else if (format == "no-validate")
        {
            normalized = IdentifierNormalizer.TryNormalizePhone(text, out var e164) ? e164 : text.Trim();
        }
        else
        {
            normalized = IdentifierNormalizer.TryNormalizePhone(text, out var e164) ? e164 : null;
            if (normalized is null)
            {
                Fail(pointer, "format", $"{TraitsErrorMapper.Quote(text)} is not valid \"phone\"", "tel", text);
                return;
            }
        }

        var spec = new AddressSpec(normalized, via);
        if (!target.Contains(spec))
        {
            target.Add(spec);
        }
    }

    private void AddIdentifier(string type, string identifier)
    {
        if (identifier.Length == 0)
        {
            return;
        }

        if (!_identifiers.TryGetValue(type, out var list))
        {
            _identifiers[type] = list = [];
        }

        if (!list.Contains(identifier, StringComparer.Ordinal))
        {
            list.Add(identifier);
        }
    }

    private void Fail(string pointer, string keyword, string message, string format, string value) =>
        _errors.Add(new TraitsError(pointer, message, keyword, new Dictionary<string, object> { ["format"] = format, ["value"] = value }));

    private TraitsValidationResult Finish()
    {
        if (_errors.Count > 0)
        {
            return new TraitsValidationResult(_errors);
        }

        return new TraitsValidationResult(
            _identifiers.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value, StringComparer.Ordinal),
            _codeAddresses.OrderBy(a => a.Value, StringComparer.Ordinal).ThenBy(a => a.Via, StringComparer.Ordinal).ToList(),
            _verifiable,
            _recovery,
            _totpAccountName,
            _passkeyDisplayName);
    }
}
