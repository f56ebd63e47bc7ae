using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Json;
using Gatehouse.SelfService.Strategies;
using Gatehouse.SelfService.Ui;

namespace Gatehouse.SelfService.Flows.Login;

/// <summary>
/// Dry-run social sign-in tests for administrators (Kratos's <c>test_handler.go</c>): <c>POST /admin/test-login-flows</c>
/// makes a browser login flow scoped to one provider, with a single submit and a bearer CSRF token; the provider's
/// callback then captures what it received (claims, the mapper's input, output and trace, the schema's verdict, or the step
/// that failed) into the flow's <c>test_context</c>, writing no identity and issuing no session.
/// <c>DELETE /self-service/login/test?id=</c> abandons or discards one.
/// </summary>
public sealed class TestLoginFlows(FlowService flows, IFlowStore store, StrategyRegistry strategies, TestLoginCookie cookie, GatehouseOptions options)
{
    /// <summary>Provider ids are short names; Kratos refuses longer ones (in bytes).</summary>
    private const int MaxProviderIdLength = 255;

    public async Task CreateAsync(HttpContext http)
    {
        var ct = http.RequestAborted;
        var providerId = await ProviderIdAsync(http.Request, ct);
        // Only social sign-in can be tested; with it off, Kratos answers a 500 naming the misconfiguration.
        var strategy = strategies.Enabled<ITestLoginStrategy>().FirstOrDefault()
            ?? throw new GatehouseError(500, "OIDC strategy is not registered; test login flows cannot be created");

        var flow = flows.Create(FlowKinds.Login, FlowTypes.Browser, http, options.Selfservice.Flows.Login.Lifespan, null, TestLoginCookie.NewBearer());
        flow.RequestedAal = Sessions.AssuranceLevels.Aal1;
        // As Kratos: a refresh, so a session in the tester's browser does not end the flow early (the provider is also asked
        // to sign in again, prompt=login).
        flow.Refresh = true;
        flow.TestContext = TestLoginContext.New(providerId);
        var ui = new UiContainer { Action = flows.ActionUrl(flow) };
        ui.Nodes.Add(UiNodes.Csrf(flow.CsrfToken));
        if (strategy.PopulateTestLogin(ui, providerId) is { } refused) throw refused;
        flow.Ui = ui.ToJson().ToJsonString();
        await flows.InsertAsync(flow, ct);
        await FlowService.WriteFlowAsync(http, StatusCodes.Status201Created, flows.ToJson(flow));
    }

    /// <summary>The body's <c>provider_id</c>, with Kratos's answers to a body it cannot use (all 400).</summary>
    private static async Task<string> ProviderIdAsync(HttpRequest request, CancellationToken ct)
    {
        var unparsable = GatehouseError.BadRequest("could not parse request body");
        JsonNode? body;
        try
        {
            body = await HttpJson.ParseBodyAsync(request, ct);
        }
        catch (JsonException)
        {
            throw unparsable;
        }
        var providerId = body switch
        {
            null => null,
            JsonObject o => o["provider_id"] switch
            {
                null => null,
                JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
                _ => throw unparsable,
            },
            _ => throw unparsable,
        };
        if (string.IsNullOrEmpty(providerId)) throw GatehouseError.BadRequest("provider_id is required");
        if (Encoding.UTF8.GetByteCount(providerId) > MaxProviderIdLength)
            throw GatehouseError.BadRequest($"provider_id must be at most {MaxProviderIdLength} characters");
        return providerId;
    }

    /// <summary>
    /// Deletes a test flow: with the id alone while nothing is captured, with the cookie its callback set afterwards (403
    /// without). A missing flow and a login flow that is no test flow are both 404, so the id of a user's flow reveals nothing.
    /// </summary>
    public async Task DeleteAsync(HttpContext http)
    {
        var ct = http.RequestAborted;
        if (!Guid.TryParse(http.Request.Query["id"].ToString(), out var id)) throw GatehouseError.BadRequest("invalid flow id");
        var missing = GatehouseError.NotFound($"The test login flow {id} does not exist.");
        var flow = await store.FindAsync(id, FlowKinds.Login, ct);
        if (flow is null || !flow.IsTestFlow) throw missing;
        var captured = TestLoginContext.IsCaptured(flow);
        cookie.VerifyHolder(http, flow);
        if (!await store.DeleteTestFlowAsync(id, ct)) throw missing;
        if (captured) cookie.Clear(http);
        http.Response.StatusCode = StatusCodes.Status204NoContent;
    }
}
