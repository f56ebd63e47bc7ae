using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Hashing;
using Gatehouse.Http.Errors;

namespace Gatehouse.Identities;

/// <summary>
/// Turns the <c>credentials</c> object of a create/update body into stored credential configs, as Kratos imports them:
/// cleartext passwords are hashed, pre-hashed ones must be a known format within cost bounds.
/// </summary>
public sealed class CredentialImport(PasswordHasher hasher, HashingQueue hashing)
{
    /// <summary>A credential to write: its config and, for provider-based types, the identifiers it brings.</summary>
    public sealed record Imported(string Type, JsonObject Config, IReadOnlyList<string> Identifiers, bool Append);

    public IReadOnlyList<Imported> Parse(JsonObject credentials, Guid identityId, string where = "")
    {
        var result = new List<Imported>();
        foreach (var (type, value) in credentials)
        {
            if (value is not JsonObject entry) throw GatehouseError.BadRequest($"{where}credentials.{type} must be an object.");
            var config = entry["config"] as JsonObject ?? (entry["config"] is null ? [] : throw GatehouseError.BadRequest($"{where}credentials.{type}.config must be an object."));
            result.Add(type switch
            {
                CredentialTypes.Password => Password(config, where),
                CredentialTypes.Oidc or CredentialTypes.Saml => Providers(type, config, where),
                CredentialTypes.Totp => Totp(config, identityId, where),
                CredentialTypes.LookupSecret => LookupSecret(config, identityId, where),
                CredentialTypes.WebAuthn or CredentialTypes.Passkey => WebAuthn(type, config, where),
                _ => throw GatehouseError.BadRequest($"{where}Importing credentials of type \"{type}\" is not supported."),
            });
        }
        return result;
    }

    private Imported Password(JsonObject config, string where)
    {
        var clear = String(config, "password", "credentials.password.config", where);
        var hashed = String(config, "hashed_password", "credentials.password.config", where);
        var useHook = config["use_password_migration_hook"] is JsonValue v && v.GetValueKind() == JsonValueKind.True;
        JsonObject stored;
        if (!string.IsNullOrEmpty(clear))
        {
            if (hasher.MaxPasswordBytes is { } max && System.Text.Encoding.UTF8.GetByteCount(clear) > max)
                throw GatehouseError.BadRequest($"{where}The password must be at most {max} bytes long for the configured hasher.");
            stored = new JsonObject { ["hashed_password"] = hashing.Run(() => hasher.Hash(clear)) };
        }
        else if (!string.IsNullOrEmpty(hashed))
        {
            var check = PasswordHasher.ValidateImport(hashed);
            if (!check.IsValid) throw GatehouseError.BadRequest(where + check.Error);
            stored = new JsonObject { ["hashed_password"] = hashed };
        }
        else if (useHook)
        {
            stored = new JsonObject { ["use_password_migration_hook"] = true };
        }
        else
        {
            stored = [];
        }
        return new(CredentialTypes.Password, stored, [], Append: false);
    }

    private static Imported Providers(string type, JsonObject config, string where)
    {
        if (config["providers"] is not JsonArray providers) throw GatehouseError.BadRequest($"{where}credentials.{type}.config.providers must be an array.");
        var stored = new JsonArray();
        var identifiers = new List<string>();
        foreach (var p in providers)
        {
            if (p is not JsonObject po) throw GatehouseError.BadRequest($"{where}credentials.{type}.config.providers must contain objects.");
            var subject = String(po, "subject", $"credentials.{type}.config.providers[]", where);
            var provider = String(po, "provider", $"credentials.{type}.config.providers[]", where);
            if (string.IsNullOrEmpty(subject) || string.IsNullOrEmpty(provider))
                throw GatehouseError.BadRequest($"{where}credentials.{type}.config.providers[] needs both \"provider\" and \"subject\".");
            var entry = new JsonObject
            {
                ["subject"] = subject,
                ["provider"] = provider,
                ["initial_id_token"] = "",
                ["initial_access_token"] = "",
                ["initial_refresh_token"] = "",
            };
            if (String(po, "organization", "", where) is { Length: > 0 } org) entry["organization"] = org;
            if (po["use_auto_link"] is JsonValue al && al.GetValueKind() == JsonValueKind.True) entry["use_auto_link"] = true;
            stored.Add(entry);
            identifiers.Add($"{provider}:{subject}");
        }
        return new(type, new JsonObject { ["providers"] = stored }, identifiers, Append: true);
    }

    private static Imported Totp(JsonObject config, Guid identityId, string where)
    {
        var url = String(config, "totp_url", "credentials.totp.config", where);
        if (string.IsNullOrEmpty(url) || !url.StartsWith("otpauth://", StringComparison.Ordinal))
            throw GatehouseError.BadRequest($"{where}credentials.totp.config.totp_url must be an otpauth:// URL.");
        return new(CredentialTypes.Totp, new JsonObject { ["totp_url"] = url }, [identityId.ToString()], Append: false);
    }

    private static Imported LookupSecret(JsonObject config, Guid identityId, string where)
    {
        if (config["codes"] is not JsonArray codes) throw GatehouseError.BadRequest($"{where}credentials.lookup_secret.config.codes must be an array.");
        var stored = new JsonArray();
        foreach (var c in codes)
        {
            if (c is not JsonObject co || String(co, "code", "credentials.lookup_secret.config.codes[]", where) is not { Length: > 0 } code)
                throw GatehouseError.BadRequest($"{where}credentials.lookup_secret.config.codes[] entries need a \"code\".");
            var entry = new JsonObject { ["code"] = code };
            if (co["used_at"] is JsonValue used && used.GetValueKind() == JsonValueKind.String) entry["used_at"] = used.GetValue<string>();
            stored.Add(entry);
        }
        return new(CredentialTypes.LookupSecret, new JsonObject { ["recovery_codes"] = stored }, [identityId.ToString()], Append: true);
    }

    private static Imported WebAuthn(string type, JsonObject config, string where)
    {
        if (config["credentials"] is not (null or JsonArray)) throw GatehouseError.BadRequest($"{where}credentials.{type}.config.credentials must be an array.");
        // Kratos decodes these as []byte (standard base64): a key that would never verify is refused, not stored.
        var index = 0;
        foreach (var entry in config["credentials"] as JsonArray ?? [])
        {
            var at = $"credentials.{type}.config.credentials[{index++}]";
            if (entry is not JsonObject key) throw GatehouseError.BadRequest($"{where}{at} must be an object.");
            foreach (var (field, value) in new[] { ("id", key["id"]), ("public_key", key["public_key"]), ("authenticator.aaguid", key["authenticator"]?["aaguid"]) })
            {
                if (value is null) continue;
                if (value.GetValueKind() != JsonValueKind.String || Base64Bytes(value.GetValue<string>()) is null && value.GetValue<string>().Length > 0)
                    throw GatehouseError.BadRequest($"{where}{at}.{field} must be standard base64.");
            }
        }
        var stored = new JsonObject { ["credentials"] = config["credentials"]?.DeepClone() ?? new JsonArray() };
        var identifiers = new List<string>();
        if (String(config, "user_handle", $"credentials.{type}.config", where) is { Length: > 0 } handle)
        {
            stored["user_handle"] = handle;
            // Kratos keeps the handle's bytes (standard base64 in JSON) and finds the passkey by string(userHandle); a
            // handle that is not base64 is kept as written (it can only be matched as written).
            if (type == CredentialTypes.Passkey) identifiers.Add(Base64Bytes(handle) is { } bytes ? PasskeyIdentifier(bytes) : handle);
        }
        return new(type, stored, identifiers, Append: true);
    }

    /// <summary>
    /// The identifier a passkey credential is found by at sign-in: its user handle as text (Kratos: <c>string(userHandle)</c>;
    /// the handles Gatehouse and Kratos make are ASCII); a handle that is not UTF-8, as standard base64.
    /// </summary>
    public static string PasskeyIdentifier(byte[] userHandle)
    {
        try
        {
            return new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(userHandle);
        }
        catch (ArgumentException)
        {
            return Convert.ToBase64String(userHandle);
        }
    }

    private static byte[]? Base64Bytes(string text)
    {
        var buffer = new byte[text.Length];
        return text.Length > 0 && text.Length % 4 == 0 && Convert.TryFromBase64String(text, buffer, out var written) ? buffer[..written] : null;
    }

    private static string? String(JsonObject o, string key, string owner, string where)
    {
        var v = o[key];
        if (v is null) return null;
        if (v.GetValueKind() != JsonValueKind.String) throw GatehouseError.BadRequest($"{where}{owner}.{key} must be a string.");
        return v.GetValue<string>();
    }
}
