using Gatehouse.Http.Outbound;
using System.Text.Json.Nodes;
using Gatehouse.Jsonnet;
using Gatehouse.SelfService.Hooks.WebHooks;

namespace Gatehouse.SelfService.Strategies.Oidc;

/// <summary>What a provider's Jsonnet mapper made of the claims (Kratos's <c>strategy_registration.go</c>).</summary>
public sealed record MappedIdentity(JsonObject Traits, JsonNode? MetadataPublic, JsonNode? MetadataAdmin, IReadOnlyList<string> VerifiedAddresses);

/// <summary>
/// Runs a provider's <c>mapper_url</c> Jsonnet with <c>std.extVar('claims')</c>; it must return
/// <c>{identity: {traits: {…}, metadata_public?, metadata_admin?, verified_addresses?: [{via, value}]}}</c>. The program
/// is loaded and compiled once per URL (the web hook templates' loader: <c>file://</c>, <c>base64://</c>, <c>http(s)://</c>),
/// evaluated without file access and with tight limits. A mapper that fails says why, as an <see cref="OidcUpstreamError"/>.
/// </summary>
public sealed partial class OidcMapper(WebHookTemplates programs, ILogger<OidcMapper> logger)
{
    public async Task<MappedIdentity> MapAsync(string providerId, string mapperUrl, JsonObject claims, CancellationToken ct)
    {
        JsonNode? output;
        try
        {
            var program = await programs.GetAsync(mapperUrl, ct);
            output = program.EvaluateToNode(new JsonnetEvaluationOptions
            {
                ExtVars = { ["claims"] = ExternalValue.Json(claims.ToJsonString()) },
                MaxSteps = 20_000_000,
                MaxAllocatedBytes = 128L * 1024 * 1024,
                MaxOutputLength = 4 * 1024 * 1024,
                MaxValueLength = 4 * 1024 * 1024,
                Timeout = TimeSpan.FromSeconds(2),
            }, ct);
        }
        catch (JsonnetException e)
        {
            LogMapperFailed(logger, providerId, e.Formatted.ReplaceLineEndings(" "));
            throw new OidcUpstreamError($"The Jsonnet mapper of OpenID Connect provider \"{providerId}\" failed: {FirstLine(e.Message)}", e);
        }
        catch (Exception e) when (e is IOException or HttpRequestException or InvalidOperationException or FormatException or UnauthorizedAccessException)
        {
            LogMapperFailed(logger, providerId, e.Message);
            throw new OidcUpstreamError($"The Jsonnet mapper of OpenID Connect provider \"{providerId}\" could not be loaded.", e);
        }
        var identity = (output as JsonObject)?["identity"] as JsonObject;
        if (identity?["traits"] is not JsonObject traits)
            throw new OidcUpstreamError($"The Jsonnet mapper of OpenID Connect provider \"{providerId}\" did not return an object for key identity.traits.");
        var verified = new List<string>();
        if (identity["verified_addresses"] is JsonArray addresses)
        {
            foreach (var a in addresses.OfType<JsonObject>())
            {
                if ((string?)a["via"] is "email" && (string?)a["value"] is { Length: > 0 } value) verified.Add(value);
            }
        }
        return new MappedIdentity((JsonObject)traits.DeepClone(), identity["metadata_public"]?.DeepClone(), identity["metadata_admin"]?.DeepClone(), verified);
    }

    private static string FirstLine(string s) => s.Split('\n', 2)[0].Trim();

    [LoggerMessage(Level = LogLevel.Warning, Message = "The Jsonnet mapper of OpenID Connect provider {Provider} failed: {Error}")]
    private static partial void LogMapperFailed(ILogger logger, string provider, string error);
}
