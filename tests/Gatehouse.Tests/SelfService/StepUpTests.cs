using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using OtpNet;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// Step-up details: the step-up URL (the SPA's 422 <c>redirect_browser_to</c>) is encoded as Kratos's <c>url.Values.Encode</c> does (a space is
/// <c>+</c>), and <c>refresh=true&amp;aal=aal2</c> together re-authenticates with a second factor on the same session.
/// </summary>
public sealed class StepUpTests(TotpServerFixture fixture) : IClassFixture<TotpServerFixture>
{
    private static Task<HttpResponseMessage> Send(TestServer s, HttpMethod method, string url, string token, JsonNode? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Add("X-Session-Token", token);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        return s.Public.SendAsync(request);
    }

    private string Code(string secret) => new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp(fixture.Clock.GetUtcNow().UtcDateTime);

    private static async Task<string> PasswordLogin(TestServer s, string email)
    {
        var flow = await ApiFlow(s.Public, "login");
        return (await (await s.Public.PostJson($"/self-service/login?flow={flow["id"]}",
            new JsonObject { ["method"] = "password", ["identifier"] = email, ["password"] = GoodPassword })).Json(HttpStatusCode.OK))["session_token"]!.GetValue<string>();
    }

    /// <summary>Registers and enrols TOTP; returns the email, the secret and the (aal2) token that enrolled it.</summary>
    private async Task<(string Email, string Secret, string Token)> Enrolled(TestServer s)
    {
        var (email, token, _) = await RegisterApi(s);
        var flow = await (await Send(s, HttpMethod.Get, "/self-service/settings/api", token)).Json(HttpStatusCode.OK);
        var secret = flow["ui"]!["nodes"]!.AsArray().Single(n => n!["attributes"]!["id"]?.GetValue<string>() == "totp_secret_key")!["attributes"]!["text"]!["context"]!["secret"]!.GetValue<string>();
        await (await Send(s, HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}", token, new JsonObject { ["method"] = "totp", ["totp_code"] = Code(secret) })).Json(HttpStatusCode.OK);
        fixture.Clock.Advance(TimeSpan.FromSeconds(30));
        return (email, secret, token);
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_step_up_url_encodes_return_to_as_kratos(string db)
    {
        var s = await fixture.Get(db);
        var (email, _, _) = await Enrolled(s);
        using var spa = new Browser(s.PublicUrl, acceptJson: true);
        var returnTo = "http://app.example.com/after login?x=a b&y=ü";
        var flow = await (await spa.Client.GetAsync($"/self-service/login/browser?return_to={Uri.EscapeDataString(returnTo)}")).Json(HttpStatusCode.OK);
        var response = await spa.Client.PostAsync($"/self-service/login?flow={flow["id"]}", new StringContent(new JsonObject
        {
            ["csrf_token"] = Csrf(flow), ["method"] = "password", ["identifier"] = email, ["password"] = GoodPassword,
        }.ToJsonString(), Encoding.UTF8, "application/json"));
        var body = await response.Json((HttpStatusCode)422);
        // Go's url.Values.Encode: keys sorted, a space is "+", everything but [A-Za-z0-9-_.~] percent-encoded. (A
        // login_challenge goes through the same encoding; a real one, from Hydra's login request, has no spaces.)
        Assert.Equal($"{s.PublicUrl}/self-service/login/browser?aal=aal2&return_to=http%3A%2F%2Fapp.example.com%2Fafter+login%3Fx%3Da+b%26y%3D%C3%BC",
            body["redirect_browser_to"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Refresh_with_aal2_re_authenticates_the_second_factor_on_the_same_session(string db)
    {
        var s = await fixture.Get(db);
        var (email, secret, aal2Token) = await Enrolled(s);

        // An aal2 session: refresh=true&aal=aal2 is allowed (not 400 session_already_available), offers the second factor only.
        var before = await (await Send(s, HttpMethod.Get, "/sessions/whoami", aal2Token)).Json(HttpStatusCode.OK);
        fixture.Clock.Advance(TimeSpan.FromMinutes(5));
        var flow = await (await Send(s, HttpMethod.Get, "/self-service/login/api?refresh=true&aal=aal2", aal2Token)).Json(HttpStatusCode.OK);
        Assert.True(flow["refresh"]!.GetValue<bool>());
        Assert.Equal("aal2", flow["requested_aal"]!.GetValue<string>());
        Assert.Equal([1010003L], MessageIds(flow));
        Assert.Equal(["totp_code", "method"], flow["ui"]!["nodes"]!.AsArray().Select(n => n!["attributes"]!["name"]!.GetValue<string>()));
        var done = await (await Send(s, HttpMethod.Post, $"/self-service/login?flow={flow["id"]}", aal2Token, new JsonObject { ["method"] = "totp", ["totp_code"] = Code(secret) })).Json(HttpStatusCode.OK);
        Assert.Equal(before["id"]!.GetValue<string>(), done["session"]!["id"]!.GetValue<string>());
        var after = await (await Send(s, HttpMethod.Get, "/sessions/whoami", aal2Token)).Json(HttpStatusCode.OK);
        Assert.Equal("aal2", after["authenticator_assurance_level"]!.GetValue<string>());
        Assert.True(DateTimeOffset.Parse(after["authenticated_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)
            > DateTimeOffset.Parse(before["authenticated_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("totp", after["authentication_methods"]!.AsArray().Last()!["method"]!.GetValue<string>());
        fixture.Clock.Advance(TimeSpan.FromSeconds(30));

        // An aal1 session of the same identity: both messages, and the second factor raises it to aal2.
        var aal1Token = await PasswordLogin(s, email);
        var stepUp = await (await Send(s, HttpMethod.Get, "/self-service/login/api?refresh=true&aal=aal2", aal1Token)).Json(HttpStatusCode.OK);
        Assert.Equal([1010003L, 1010004L], MessageIds(stepUp));
        await (await Send(s, HttpMethod.Post, $"/self-service/login?flow={stepUp["id"]}", aal1Token, new JsonObject { ["method"] = "totp", ["totp_code"] = Code(secret) })).Json(HttpStatusCode.OK);
        Assert.Equal("aal2", (await (await Send(s, HttpMethod.Get, "/sessions/whoami", aal1Token)).Json(HttpStatusCode.OK))["authenticator_assurance_level"]!.GetValue<string>());
        fixture.Clock.Advance(TimeSpan.FromSeconds(30));

        // Without a session it is still 401 session_aal1_required.
        Assert.Equal("session_aal1_required", (await (await s.Public.GetAsync("/self-service/login/api?refresh=true&aal=aal2")).Error(HttpStatusCode.Unauthorized))["id"]!.GetValue<string>());
    }
}
