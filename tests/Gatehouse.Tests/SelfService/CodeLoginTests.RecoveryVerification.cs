using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>The code method's recovery and verification codes past their lifespan and past their guesses, as Kratos answers them.</summary>
public sealed partial class CodeLoginTests
{
    private const string SubmittedTooOften = "The request was submitted too often. Please request another code.";

    private static async Task<(JsonObject Flow, string Code)> CodeSentAsync(Harness h, string kind, string email)
    {
        var flow = await ApiFlow(h.Server.Public, kind);
        await (await h.Server.Public.SubmitJson($"/self-service/{kind}?flow={flow["id"]}", new JsonObject { ["method"] = "code", ["email"] = email })).Json(HttpStatusCode.OK);
        return (flow, await h.MailedCodeAsync(email));
    }

    private static string Wrong(string code) => code == "000000" ? "111111" : "000000";

    /// <summary>Kratos's VerificationCode.Validate: the right code past its lifespan expires the flow (410, a new flow with 4070005).</summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_verification_code_past_its_lifespan_expires_the_flow(string db)
    {
        var h = await servers.Get(db);
        var (email, _) = await RegisterByCodeAsync(h);
        var flow = (await (await h.Server.Public.GetAsync("/self-service/verification/api?return_to=http://app.example.com/after")).Json(HttpStatusCode.OK)).AsObject();
        Assert.Equal("http://app.example.com/after", flow["return_to"]!.GetValue<string>());
        await (await h.Server.Public.SubmitJson($"/self-service/verification?flow={flow["id"]}", new JsonObject { ["method"] = "code", ["email"] = email })).Json(HttpStatusCode.OK);
        var code = await h.MailedCodeAsync(email);
        h.Clock.Advance(TimeSpan.FromMinutes(16));
        var submit = $"/self-service/verification?flow={flow["id"]}";
        Assert.Equal([4070006L], MessageIds(await (await h.Server.Public.SubmitJson(submit, new JsonObject { ["method"] = "code", ["code"] = Wrong(code) })).Json(HttpStatusCode.OK)));
        var late = await (await h.Server.Public.PostJson(submit, new JsonObject { ["method"] = "code", ["code"] = code })).Json(HttpStatusCode.Gone);
        Assert.Equal("self_service_flow_expired", late["error"]!["id"]!.GetValue<string>());
        Assert.Equal("The self-service flow expired 1.00 minutes ago, initialize a new one.", late["error"]!["reason"]!.GetValue<string>());
        Assert.Equal("self-service flow expired", late["error"]!["message"]!.GetValue<string>());
        var next = await (await h.Server.Public.GetAsync($"/self-service/verification/flows?id={late["use_flow_id"]}")).Json(HttpStatusCode.OK);
        Assert.Equal("choose_method", next["state"]!.GetValue<string>());
        // retryVerificationFlowWithError makes the new flow from the submit (verification.NewFlow): no return_to.
        Assert.Null(next["return_to"]);
        Assert.Equal([4070005L], MessageIds(next));
        Assert.Equal("The verification flow expired 1.00 minutes ago, please try again.", next["ui"]!["messages"]![0]!["text"]!.GetValue<string>());
    }

    /// <summary>
    /// Kratos's RecoveryCode.Validate answers an expired code as not found: the recovery flow stays and shows 4060006 (a 200,
    /// as every wrong recovery or verification code is answered).
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_recovery_code_past_its_lifespan_is_only_invalid(string db)
    {
        var h = await servers.Get(db);
        var (email, _) = await RegisterByCodeAsync(h);
        var (flow, code) = await CodeSentAsync(h, "recovery", email);
        h.Clock.Advance(TimeSpan.FromMinutes(16));
        var late = await (await h.Server.Public.PostJson($"/self-service/recovery?flow={flow["id"]}", new JsonObject { ["method"] = "code", ["code"] = code })).Json(HttpStatusCode.OK);
        Assert.Equal(flow["id"]!.GetValue<string>(), late["id"]!.GetValue<string>());
        Assert.Equal("sent_email", late["state"]!.GetValue<string>());
        Assert.Equal([4060006L], MessageIds(late));
    }

    /// <summary>
    /// Kratos's retryVerificationFlowWithError after ErrCodeSubmittedTooOften: a new flow carrying 4000001 "The request was
    /// submitted too often. Please request another code."; JSON clients get 410 self_service_flow_replaced naming it.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Spent_verification_guesses_replace_the_flow_with_kratos_message(string db)
    {
        var h = await servers.Get(db);
        var (email, _) = await RegisterByCodeAsync(h);
        var (flow, code) = await CodeSentAsync(h, "verification", email);
        var submit = $"/self-service/verification?flow={flow["id"]}";
        for (var i = 0; i < 3; i++)
            Assert.Equal([4070006L], MessageIds(await (await h.Server.Public.SubmitJson(submit, new JsonObject { ["method"] = "code", ["code"] = Wrong(code) })).Json(HttpStatusCode.OK)));
        var replaced = await (await h.Server.Public.PostJson(submit, new JsonObject { ["method"] = "code", ["code"] = code })).Json(HttpStatusCode.Gone);
        Assert.Equal("self_service_flow_replaced", replaced["error"]!["id"]!.GetValue<string>());
        Assert.Equal("An error occured, please retry the flow.", replaced["error"]!["reason"]!.GetValue<string>());
        Assert.Equal("self-service flow replaced", replaced["error"]!["message"]!.GetValue<string>());
        var next = await (await h.Server.Public.GetAsync($"/self-service/verification/flows?id={replaced["use_flow_id"]}")).Json(HttpStatusCode.OK);
        Assert.NotEqual(flow["id"]!.GetValue<string>(), next["id"]!.GetValue<string>());
        Assert.Equal("choose_method", next["state"]!.GetValue<string>());
        Assert.Equal([4000001L], MessageIds(next));
        Assert.Equal(SubmittedTooOften, next["ui"]!["messages"]![0]!["text"]!.GetValue<string>());
        Assert.NotNull(Node(next, "email"));
    }

    /// <summary>
    /// Kratos's retryRecoveryFlow after ErrCodeSubmittedTooOften (use_continue_with_transitions off): a new flow carrying
    /// 4000001; a JSON client is sent (303) to fetch it, an HTML browser to the recovery UI.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Spent_recovery_guesses_send_the_client_to_a_new_flow_with_kratos_message(string db)
    {
        var h = await servers.Get(db);
        var (email, _) = await RegisterByCodeAsync(h);
        var (flow, code) = await CodeSentAsync(h, "recovery", email);
        var submit = $"/self-service/recovery?flow={flow["id"]}";
        for (var i = 0; i < 3; i++)
            Assert.Equal([4060006L], MessageIds(await (await h.Server.Public.PostJson(submit, new JsonObject { ["method"] = "code", ["code"] = Wrong(code) })).Json(HttpStatusCode.OK)));
        using var noRedirects = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = h.Server.Public.BaseAddress };
        var answer = await noRedirects.PostJson(submit, new JsonObject { ["method"] = "code", ["code"] = code });
        Assert.Equal(HttpStatusCode.SeeOther, answer.StatusCode);
        var location = answer.Headers.Location!.ToString();
        Assert.StartsWith($"{h.Server.PublicUrl}/self-service/recovery/flows?id=", location, StringComparison.Ordinal);
        var next = await (await h.Server.Public.GetAsync(location)).Json(HttpStatusCode.OK);
        Assert.NotEqual(flow["id"]!.GetValue<string>(), next["id"]!.GetValue<string>());
        Assert.Equal("choose_method", next["state"]!.GetValue<string>());
        Assert.Equal([4000001L], MessageIds(next));
        Assert.Equal(SubmittedTooOften, next["ui"]!["messages"]![0]!["text"]!.GetValue<string>());
        Assert.NotNull(Node(next, "email"));
        // The old flow's code stays refused; nobody was signed in.
        var again = await noRedirects.PostJson(submit, new JsonObject { ["method"] = "code", ["code"] = code });
        Assert.Equal(HttpStatusCode.SeeOther, again.StatusCode);
    }
}
