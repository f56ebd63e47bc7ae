using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using OtpNet;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// An admin PATCH or PUT of an identity keeps the TOTP credential's replay guard (the last used time step, which the admin
/// view leaves out): a code spent before the update is still refused after it.
/// </summary>
public sealed class TotpAdminUpdateTests(TotpServerFixture fixture) : IClassFixture<TotpServerFixture>
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

    private static async Task<HttpResponseMessage> StepUp(TestServer s, string token, string code)
    {
        var flow = await (await Send(s, HttpMethod.Get, "/self-service/login/api?aal=aal2", token)).Json(HttpStatusCode.OK);
        return await Send(s, HttpMethod.Post, $"/self-service/login?flow={flow["id"]}", token, new JsonObject { ["method"] = "totp", ["totp_code"] = code });
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_spent_code_stays_spent_after_an_admin_patch_and_put(string db)
    {
        var s = await fixture.Get(db);
        var (email, token, reg) = await RegisterApi(s);
        var id = reg["identity"]!["id"]!.GetValue<string>();
        var flow = await (await Send(s, HttpMethod.Get, "/self-service/settings/api", token)).Json(HttpStatusCode.OK);
        var secret = flow["ui"]!["nodes"]!.AsArray().Single(n => n!["attributes"]!["id"]?.GetValue<string>() == "totp_secret_key")!["attributes"]!["text"]!["context"]!["secret"]!.GetValue<string>();
        await (await Send(s, HttpMethod.Post, $"/self-service/settings?flow={flow["id"]}", token, new JsonObject { ["method"] = "totp", ["totp_code"] = Code(secret) })).Json(HttpStatusCode.OK);
        fixture.Clock.Advance(TimeSpan.FromSeconds(30));

        var code = Code(secret);
        await (await StepUp(s, await PasswordLogin(s, email), code)).Json(HttpStatusCode.OK);

        await (await s.AdminWithKey.PatchJson($"/admin/identities/{id}", """[{"op":"replace","path":"/metadata_public","value":{"x":1}}]""")).Json(HttpStatusCode.OK);
        Assert.Contains(4000008L, MessageIds(await (await StepUp(s, await PasswordLogin(s, email), code)).Json(HttpStatusCode.BadRequest)));

        var admin = await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}?include_credential=totp")).Json(HttpStatusCode.OK);
        var url = admin["credentials"]!["totp"]!["config"]!["totp_url"]!.GetValue<string>();
        await (await s.AdminWithKey.PatchJson($"/admin/identities/{id}", new JsonArray(new JsonObject { ["op"] = "replace", ["path"] = "/credentials/totp/config", ["value"] = new JsonObject { ["totp_url"] = url } }).ToJsonString())).Json(HttpStatusCode.OK);
        Assert.Contains(4000008L, MessageIds(await (await StepUp(s, await PasswordLogin(s, email), code)).Json(HttpStatusCode.BadRequest)));

        var put = new JsonObject
        {
            ["schema_id"] = "default", ["state"] = "active", ["traits"] = new JsonObject { ["email"] = email },
            ["credentials"] = new JsonObject { ["totp"] = new JsonObject { ["config"] = new JsonObject { ["totp_url"] = url } } },
        };
        await (await s.AdminWithKey.PutJson($"/admin/identities/{id}", put.ToJsonString())).Json(HttpStatusCode.OK);
        Assert.Contains(4000008L, MessageIds(await (await StepUp(s, await PasswordLogin(s, email), code)).Json(HttpStatusCode.BadRequest)));

        // The stored config still has the guard, the admin view still does not show it.
        using (var scope = s.Services.CreateScope())
        {
            var stored = await scope.ServiceProvider.GetRequiredService<GatehouseDbContext>().Credentials.AsNoTracking().SingleAsync(c => c.IdentityId == Guid.Parse(id) && c.Type == "totp");
            Assert.Contains("\"last_used_step\"", stored.Config, StringComparison.Ordinal);
        }
        Assert.Null((await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}?include_credential=totp")).Json(HttpStatusCode.OK))["credentials"]!["totp"]!["config"]!["last_used_step"]);
        fixture.Clock.Advance(TimeSpan.FromSeconds(30));
        await (await StepUp(s, await PasswordLogin(s, email), Code(secret))).Json(HttpStatusCode.OK);
    }

    /// <summary>
    /// Kratos's TOTP import (<c>credentials.totp.config.totp_url</c> on create and batch import): the imported key signs in
    /// as the second factor; a URL no authenticator could use is a 400 and creates nothing.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task An_imported_totp_key_is_the_second_factor_and_an_unusable_one_is_refused(string db)
    {
        var s = await fixture.Get(db);
        var secret = Base32Encoding.ToString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20)).TrimEnd('=');
        var email = HttpAssertions.UniqueEmail("totp-import");
        var url = $"otpauth://totp/Acme:{email}?algorithm=SHA1&digits=6&issuer=Acme&period=30&secret={secret}";
        JsonObject Body(string mail, string totpUrl) => new()
        {
            ["schema_id"] = "default", ["traits"] = new JsonObject { ["email"] = mail },
            ["credentials"] = new JsonObject
            {
                ["password"] = new JsonObject { ["config"] = new JsonObject { ["password"] = GoodPassword } },
                ["totp"] = new JsonObject { ["config"] = new JsonObject { ["totp_url"] = totpUrl } },
            },
        };
        var created = await (await s.AdminWithKey.PostJson("/admin/identities", Body(email, url))).Json(HttpStatusCode.Created);
        var id = created["id"]!.GetValue<string>();
        var admin = await (await s.AdminWithKey.GetAsync($"/admin/identities/{id}?include_credential=totp")).Json(HttpStatusCode.OK);
        Assert.Equal(url, admin["credentials"]!["totp"]!["config"]!["totp_url"]!.GetValue<string>());
        Assert.Equal([id], admin["credentials"]!["totp"]!["identifiers"]!.AsArray().Select(x => x!.GetValue<string>()));

        var token = await PasswordLogin(s, email);
        Assert.Equal("session_aal2_required", (await (await Send(s, HttpMethod.Get, "/sessions/whoami", token)).Error(HttpStatusCode.Forbidden))["id"]!.GetValue<string>());
        await (await StepUp(s, token, Code(secret))).Json(HttpStatusCode.OK);
        Assert.Equal("aal2", (await (await Send(s, HttpMethod.Get, "/sessions/whoami", token)).Json(HttpStatusCode.OK))["authenticator_assurance_level"]!.GetValue<string>());
        fixture.Clock.Advance(TimeSpan.FromSeconds(30));

        // Batch import takes the same credential.
        var batchEmail = HttpAssertions.UniqueEmail("totp-batch");
        var batch = await (await s.AdminWithKey.PatchJson("/admin/identities", new JsonObject
        {
            ["identities"] = new JsonArray(new JsonObject { ["create"] = Body(batchEmail, url.Replace(email, batchEmail, StringComparison.Ordinal)) }),
        }.ToJsonString())).Json(HttpStatusCode.OK);
        Assert.Equal("create", batch["identities"]![0]!["action"]!.GetValue<string>());
        var batchToken = await PasswordLogin(s, batchEmail);
        await (await StepUp(s, batchToken, Code(secret))).Json(HttpStatusCode.OK);
        fixture.Clock.Advance(TimeSpan.FromSeconds(30));

        // Unusable keys: a clear 400 and no identity.
        foreach (var bad in new[] { "otpauth://totp/Acme:x?secret=not-base32!", "otpauth://totp/Acme:x?secret=" + secret + "&digits=12", "otpauth://hotp/Acme:x?secret=" + secret })
        {
            var badEmail = HttpAssertions.UniqueEmail("totp-bad");
            var error = await (await s.AdminWithKey.PostJson("/admin/identities", Body(badEmail, bad))).Error(HttpStatusCode.BadRequest);
            Assert.Contains("totp_url", error["reason"]?.GetValue<string>() ?? error["message"]!.GetValue<string>(), StringComparison.Ordinal);
            var found = await (await s.AdminWithKey.GetAsync($"/admin/identities?credentials_identifier={Uri.EscapeDataString(badEmail)}")).Json(HttpStatusCode.OK);
            Assert.Empty(found.AsArray());
        }
    }
}
