using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Flows.Login;

namespace Gatehouse.SelfService.Strategies.Oidc;

/// <summary>
/// The callback of a test login flow (Kratos's <c>processTestLogin</c>): the round trip's outcome becomes the flow's
/// <c>test_context.debug_payload</c> — the claims, the user info, the mapper's URL, input, output and trace, the identity
/// schema's verdict on the mapped traits, or the step that failed — and the browser goes to the results page.
/// </summary>
public sealed partial class OidcCallback
{
    /// <summary>Where the tester's browser lands: <c>/session/test-oidc?flow=&lt;id&gt;</c> on the host the callback is served from (Kratos's results page).</summary>
    public const string ResultsPath = "/session/test-oidc";

    private async Task CaptureTestAsync(HttpContext http, SelfServiceFlow flow, Config.OidcProviderOptions provider, JsonObject claims, JsonObject? userinfo, CancellationToken ct)
    {
        var input = OidcUpstream.MapperClaims(claims);
        // Never the provider's tokens (nor the raw ID token): the payload is readable in the tester's browser for the
        // flow's lifetime.
        var payload = new JsonObject { ["id_token_claims"] = input.DeepClone() };
        if (userinfo is not null) payload["userinfo"] = userinfo;
        payload["jsonnet_mapper_url"] = provider.MapperUrl;

        var trace = new StringBuilder();
        JsonNode? output;
        try
        {
            output = await mapper.EvaluateAsync(provider.Id, provider.MapperUrl, input, line => trace.Append(line).Append('\n'), ct);
        }
        catch (OidcUpstreamError e)
        {
            await FinishTestAsync(http, flow, Failed(payload, trace, OidcTestSteps.JsonnetRun, OidcTestSteps.EvaluationFailed, e.Reason), ct);
            return;
        }
        payload["jsonnet_input"] = input;
        if (output is not JsonObject mapped)
        {
            await FinishTestAsync(http, flow, Failed(payload, trace, OidcTestSteps.JsonnetRun, OidcTestSteps.InvalidOutput,
                $"The Jsonnet mapper did not return a JSON object but {Describe(output)}."), ct);
            return;
        }
        payload["jsonnet_output"] = mapped;
        var identity = mapped["identity"] as JsonObject;
        if (identity?["traits"] is not JsonObject traits)
        {
            await FinishTestAsync(http, flow, Failed(payload, trace, OidcTestSteps.JsonnetRun, OidcTestSteps.InvalidTraits,
                "OpenID Connect Jsonnet mapper did not return an object for key identity.traits. Please check your Jsonnet code!"), ct);
            return;
        }
        foreach (var (key, reason) in new[] { ("metadata_public", OidcTestSteps.InvalidMetadataPublic), ("metadata_admin", OidcTestSteps.InvalidMetadataAdmin) })
        {
            if (!identity.ContainsKey(key) || identity[key] is JsonObject) continue;
            await FinishTestAsync(http, flow, Failed(payload, trace, OidcTestSteps.JsonnetRun, reason,
                $"OpenID Connect Jsonnet mapper did not return an object for key identity.{key}. Please check your Jsonnet code!"), ct);
            return;
        }

        // The traits as a sign-up would store them, against the schema a sign-up would use; nothing is written.
        var schema = registration.SchemaOf(flow);
        var validation = schema.Validate(traits);
        if (!validation.IsValid)
        {
            var errors = new JsonArray();
            foreach (var e in validation.Errors)
                errors.Add(new JsonObject { ["path"] = e.InstancePointer.TrimStart('#'), ["message"] = e.Message });
            payload["schema_validation_errors"] = errors;
            var summary = string.Join("; ", validation.Errors.Select(e => $"{e.InstancePointer.TrimStart('#')}: {e.Message}"));
            Failed(payload, trace, OidcTestSteps.SchemaValidate, OidcTestSteps.TraitsInvalid,
                $"The mapped traits do not match the identity schema \"{schema.Id}\": {summary}");
        }
        else if (trace.Length > 0) payload["jsonnet_stderr"] = trace.ToString();
        await FinishTestAsync(http, flow, payload, ct);
    }

    private static JsonObject Failed(JsonObject payload, StringBuilder trace, string step, string reason, string message)
    {
        if (trace.Length > 0) payload["jsonnet_stderr"] = trace.ToString();
        payload["error"] = TestError(step, reason, message);
        return payload;
    }

    private static JsonObject TestError(string step, string reason, string message) =>
        new() { ["step"] = step, ["reason"] = reason, ["message"] = message };

    private static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonArray => "an array",
        _ => node.GetValueKind() switch
        {
            System.Text.Json.JsonValueKind.String => "a string",
            System.Text.Json.JsonValueKind.Number => "a number",
            System.Text.Json.JsonValueKind.Null => "null",
            _ => "a boolean",
        },
    };

    /// <summary>
    /// Records the payload (once: a payload already captured stays), marks the flow done, rotates its token into the HMAC
    /// cookie only this browser gets, and sends the browser to the results page.
    /// </summary>
    private async Task FinishTestAsync(HttpContext http, SelfServiceFlow flow, JsonObject payload, CancellationToken ct)
    {
        if (TestLoginContext.Capture(flow, payload))
        {
            flow.State = FlowStates.PassedChallenge;
            testFlows.Issue(http, flow);
            await flows.UpdateAsync(flow, ct);
        }
        FlowService.Redirect(http, TestResultsUrl(flow));
    }

    /// <summary>
    /// The results page on the host the callback is served from (Kratos: the request's base URL, from which the OIDC
    /// redirect URI is also built) — here the configured one, not a Host header.
    /// </summary>
    private string TestResultsUrl(SelfServiceFlow flow)
    {
        var callback = strategy.Provider(TestLoginContext.ProviderId(flow)) is { } provider ? upstream.RedirectUri(provider) : flows.PublicBase;
        return new Uri(callback).GetLeftPart(UriPartial.Authority) + ResultsPath + "?flow=" + flow.Id;
    }
}
