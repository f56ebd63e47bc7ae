using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Identities;
using Gatehouse.Jsonnet;

namespace Gatehouse.OAuth2.Consent;

/// <summary>
/// The claims the built-in consent page grants: a Jsonnet mapper (<c>oauth2.consent.claims_mapper_url</c>, else
/// <see cref="DefaultMapper"/>) reads the identity (<c>std.extVar('identity')</c>, as the public identity JSON: id,
/// schema_id, traits, verifiable_addresses, metadata_public, …), the granted scopes (<c>std.extVar('grant_scope')</c>, an
/// array) and the client (<c>std.extVar('client')</c>, as the admin API shows it, without secrets) and returns
/// <c>{id_token: {…}, access_token: {…}}</c> — Hydra's <c>session.id_token</c> / <c>session.access_token</c> of the consent
/// accept. The ID token's protocol claims (<c>iss</c>, <c>sub</c>, <c>aud</c>, <c>exp</c>, <c>nonce</c>, …) are set over
/// the mapper's, so it cannot change them.
/// </summary>
public sealed class ClaimsMapper(JsonnetEngine jsonnet, IIdentityReader identities, IdentityJson identityJson, GatehouseOptions options)
{
    /// <summary>
    /// The mapper used without configuration: OpenID Connect's standard claims (Core 5.4) for the <c>email</c>,
    /// <c>profile</c> and <c>phone</c> scopes from the trait names of Kratos's example schemas — <c>email</c> (or the first
    /// e-mail address) with <c>email_verified</c> from its verifiable address; <c>name</c> as a string or as
    /// <c>{first, last}</c>; <c>username</c>; <c>phone</c>.
    /// </summary>
    public const string DefaultMapper = """
        local identity = std.extVar('identity');
        local scope = std.extVar('grant_scope');
        local traits = if std.isObject(std.get(identity, 'traits', null)) then identity.traits else {};
        local has(s) = std.member(scope, s);
        local str(o, k) = if std.isObject(o) && std.isString(std.get(o, k, null)) then o[k] else null;
        local emails = [a for a in std.get(identity, 'verifiable_addresses', []) if a.via == 'email'];
        local email = if str(traits, 'email') != null then traits.email else if std.length(emails) > 0 then emails[0].value else null;
        local verified = [a.verified for a in emails if email != null && std.asciiLower(a.value) == std.asciiLower(email)];
        local name = std.get(traits, 'name', null);
        local first = str(name, 'first');
        local last = str(name, 'last');
        local full = if std.isString(name) then name
          else std.join(' ', [p for p in [first, last] if p != null]);
        {
          id_token: {
            [if has('email') && email != null then 'email']: email,
            [if has('email') && email != null then 'email_verified']: std.length(verified) > 0 && verified[0],
            [if has('profile') && full != '' then 'name']: full,
            [if has('profile') && first != null then 'given_name']: first,
            [if has('profile') && last != null then 'family_name']: last,
            [if has('profile') && str(traits, 'username') != null then 'preferred_username']: traits.username,
            [if has('phone') && str(traits, 'phone') != null then 'phone_number']: traits.phone,
          },
        }
        """;

    /// <summary>The scopes <see cref="DefaultMapper"/> maps claims for; granted none of them, it answers no claims.</summary>
    private static readonly HashSet<string> DefaultMapperScopes = new(["email", "profile", "phone"], StringComparer.Ordinal);

    /// <summary>The claims for <paramref name="subject"/> (an identity id); empty claims for a subject that is no identity.</summary>
    /// <exception cref="OAuth2Error">The mapper cannot be read, fails, or does not return an object (500 <c>server_error</c>, logged by the caller).</exception>
    public async Task<(JsonObject IdToken, JsonObject AccessToken)> MapAsync(string subject, IEnumerable<string> grantScope, JsonObject client, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(grantScope);
        // The default mapper maps nothing without one of its scopes (e.g. a plain `openid` grant): skip the identity read
        // and the evaluation, whose answer is known.
        if (string.IsNullOrEmpty(options.Oauth2.Consent.ClaimsMapperUrl) && !grantScope.Any(DefaultMapperScopes.Contains)) return ([], []);
        var identity = Guid.TryParse(subject, out var id) ? await identities.FindAsync(id, ct) : null;
        if (identity is null) return ([], []);
        var program = await ProgramAsync(ct);
        var evaluation = new JsonnetEvaluationOptions
        {
            ExtVars =
            {
                ["identity"] = ExternalValue.Json(identityJson.ToNode(identity, IdentityView.Public).ToJsonString()),
                ["grant_scope"] = ExternalValue.Json(new JsonArray([.. grantScope.Select(s => (JsonNode)s)]).ToJsonString()),
                ["client"] = ExternalValue.Json(client.ToJsonString()),
            },
            MaxSteps = 20_000_000,
            MaxAllocatedBytes = 128L * 1024 * 1024,
            MaxOutputLength = 1024 * 1024,
            MaxValueLength = 1024 * 1024,
            Timeout = TimeSpan.FromSeconds(2),
        };
        string output;
        try
        {
            output = program.EvaluateMinified(evaluation, ct);
        }
        catch (JsonnetException e)
        {
            throw OAuth2Error.ServerError("The ID token claims mapper (oauth2.consent.claims_mapper_url) failed: " + e.Message.Split('\n')[0]);
        }
        if (JsonNode.Parse(output) is not JsonObject result
            || result["id_token"] is not (null or JsonObject) || result["access_token"] is not (null or JsonObject))
            throw OAuth2Error.ServerError("The ID token claims mapper (oauth2.consent.claims_mapper_url) must return an object with optional id_token and access_token objects.");
        return ((result["id_token"] as JsonObject)?.DeepClone().AsObject() ?? [], (result["access_token"] as JsonObject)?.DeepClone().AsObject() ?? []);
    }

    private async Task<JsonnetProgram> ProgramAsync(CancellationToken ct)
    {
        var location = options.Oauth2.Consent.ClaimsMapperUrl;
        if (string.IsNullOrEmpty(location)) return jsonnet.Compile(DefaultMapper, "default_claims_mapper.jsonnet");
        string text;
        try
        {
            // The engine caches parsed programs by text, so reading the file on every use (as Kratos reads its mappers) is cheap.
            if (location.StartsWith("base64://", StringComparison.Ordinal))
            {
                var s = location["base64://".Length..].Trim().Replace('-', '+').Replace('_', '/');
                text = Encoding.UTF8.GetString(Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '=')));
            }
            else if (location.StartsWith("file://", StringComparison.Ordinal))
            {
                text = await File.ReadAllTextAsync(location["file://".Length..], ct);
            }
            else
            {
                throw OAuth2Error.ServerError("oauth2.consent.claims_mapper_url must be a file:// or base64:// URL.");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ArgumentException or NotSupportedException)
        {
            throw OAuth2Error.ServerError("The ID token claims mapper (oauth2.consent.claims_mapper_url) cannot be read.");
        }
        try
        {
            return jsonnet.Compile(text, location.StartsWith("file://", StringComparison.Ordinal) ? location["file://".Length..] : "claims_mapper.jsonnet");
        }
        catch (JsonnetException e)
        {
            throw OAuth2Error.ServerError("The ID token claims mapper (oauth2.consent.claims_mapper_url) is not valid Jsonnet: " + e.Message.Split('\n')[0]);
        }
    }
}
