using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Courier;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.SelfService.CodeLoginTests;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// Passwordless codes where the identity is already known: the identifier-first login's fast path (Kratos's
/// <c>FastLogin1FA</c>: the code is sent as soon as the identifier names an identity whose only way in it is), and a
/// refresh, which signs in its session's identity again only — by a typed identifier or, with
/// <c>feature_flags.refresh_login_choose_address</c>, by one button per address. Codes are read from the mail delivered
/// to a real SMTP server.
/// </summary>
public sealed class CodeFastAndRefreshLoginTests(CodeLoginTests.Servers servers) : IClassFixture<CodeLoginTests.Servers>
{
    private static async Task<JsonNode> RefreshFlow(TestServer s, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/self-service/login/api?refresh=true");
        request.Headers.Add("X-Session-Token", token);
        return await (await s.Public.SendAsync(request)).Json(HttpStatusCode.OK);
    }

    private static async Task DeliverMail(Harness h) =>
        await ActivatorUtilities.CreateInstance<CourierWorker>(h.Server.Services).ProcessBatchAsync(CancellationToken.None);

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Identifier_first_sends_the_code_at_once_when_it_is_the_identitys_only_way_in(string db)
    {
        var h = await servers.Get(db, "identifier_first");
        var (email, registered) = await RegisterByCodeAsync(h);
        var flow = await ApiFlow(h.Server.Public, "login");

        var sent = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "identifier_first", ["identifier"] = email })).Json(HttpStatusCode.BadRequest);
        Assert.Equal("sent_email", sent["state"]!.GetValue<string>());
        Assert.Equal("code", sent["active"]!.GetValue<string>());
        Assert.Equal([1010014L], MessageIds(sent));
        // Kratos's populateEmailSentFlow keeps the identifier (the identifier-first node, hidden) and adds the code fields.
        Assert.Equal(
            [("identifier_first", "identifier", "hidden", email), ("code", "method", "hidden", "code"), ("code", "code", "text", null), ("code", "method", "submit", "code"), ("code", "resend", "submit", "code")],
            Nodes(sent));
        var code = await h.MailedCodeAsync(email);
        var done = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = email, ["code"] = code })).Json(HttpStatusCode.OK);
        Assert.Equal(registered["identity"]!["id"]!.GetValue<string>(), done["session"]!["identity"]!["id"]!.GetValue<string>());
        Assert.Equal("code", done["session"]!["authentication_methods"]![0]!["method"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Identifier_first_offers_the_choice_when_the_identity_also_has_a_password(string db)
    {
        var h = await servers.Get(db, "identifier_first");
        var email = HttpAssertions.UniqueEmail("both");
        var registration = await ApiFlow(h.Server.Public, "registration");
        await (await Submit(h.Server, registration, new JsonObject { ["method"] = "password", ["traits"] = new JsonObject { ["email"] = email }, ["password"] = GoodPassword })).Json(HttpStatusCode.OK);
        await DeliverMail(h);
        var mails = h.MailsTo(email);

        var flow = await ApiFlow(h.Server.Public, "login");
        var second = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "identifier_first", ["identifier"] = email })).Json(HttpStatusCode.BadRequest);
        Assert.Equal("choose_method", second["state"]!.GetValue<string>());
        Assert.Contains(("password", "password", "password", (string?)null), Nodes(second));
        Assert.Contains(("code", "method", "submit", (string?)"code"), Nodes(second));
        await DeliverMail(h);
        Assert.Equal(mails, h.MailsTo(email));
    }

    /// <summary>
    /// With enumeration mitigation the second screen is the same for every identifier: Kratos would still send the code
    /// at once when the code is the only enabled method, which tells an existing account from an unknown one.
    /// </summary>
    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task With_enumeration_mitigation_identifier_first_never_sends_a_code_at_once(string db)
    {
        var h = await servers.Get(db, "identifier_first_mitigated");
        var (email, _) = await RegisterByCodeAsync(h);
        await DeliverMail(h);
        var mails = h.MailsTo(email);

        var known = await (await Submit(h.Server, await ApiFlow(h.Server.Public, "login"), new JsonObject { ["method"] = "identifier_first", ["identifier"] = email })).Json(HttpStatusCode.BadRequest);
        var unknown = await (await Submit(h.Server, await ApiFlow(h.Server.Public, "login"), new JsonObject { ["method"] = "identifier_first", ["identifier"] = HttpAssertions.UniqueEmail("nobody") })).Json(HttpStatusCode.BadRequest);
        Assert.Equal("choose_method", known["state"]!.GetValue<string>());
        Assert.Equal(Nodes(known).Select(n => (n.Group, n.Name, n.Type)), Nodes(unknown).Select(n => (n.Group, n.Name, n.Type)));
        Assert.Equal(MessageIds(known), MessageIds(unknown));
        Assert.Contains(("code", "method", "submit", (string?)"code"), Nodes(known));
        await DeliverMail(h);
        Assert.Equal(mails, h.MailsTo(email));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_refresh_by_code_refuses_another_identitys_address_and_mails_nothing(string db)
    {
        var h = await servers.Get(db);
        var (mine, registered) = await RegisterByCodeAsync(h);
        var (theirs, _) = await RegisterByCodeAsync(h);
        await DeliverMail(h);
        var theirMails = h.MailsTo(theirs);
        var flow = await RefreshFlow(h.Server, registered["session_token"]!.GetValue<string>());

        var refused = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = theirs })).Json(HttpStatusCode.BadRequest);
        Assert.Equal("choose_method", refused["state"]!.GetValue<string>());
        Assert.Equal([4000035L], MessageIds(refused));
        await DeliverMail(h);
        Assert.Equal(theirMails, h.MailsTo(theirs));

        await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = mine })).Json(HttpStatusCode.BadRequest);
        var code = await h.MailedCodeAsync(mine);
        var done = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = mine, ["code"] = code })).Json(HttpStatusCode.OK);
        Assert.Equal(registered["identity"]!["id"]!.GetValue<string>(), done["session"]!["identity"]!["id"]!.GetValue<string>());
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task The_refresh_address_picker_offers_the_sessions_addresses_and_signs_in_again(string db)
    {
        var h = await servers.Get(db, "refresh_choose_address");
        var (mine, registered) = await RegisterByCodeAsync(h);
        var (theirs, _) = await RegisterByCodeAsync(h);
        await DeliverMail(h);
        var theirMails = h.MailsTo(theirs);
        var token = registered["session_token"]!.GetValue<string>();

        var flow = await RefreshFlow(h.Server, token);
        var buttons = flow["ui"]!["nodes"]!.AsArray().Where(n => n!["group"]!.GetValue<string>() == "code").ToList();
        var button = Assert.Single(buttons)!;
        Assert.Equal(("address", "submit", mine), (button["attributes"]!["name"]!.GetValue<string>(), button["attributes"]!["type"]!.GetValue<string>(), button["attributes"]!["value"]!.GetValue<string>()));
        Assert.Equal(1010023, button["meta"]!["label"]!["id"]!.GetValue<long>());
        Assert.DoesNotContain(Nodes(flow), n => n.Group == "code" && n.Name == "method");

        // Somebody else's address, posted as a button would: refused as an unknown one, nothing mailed.
        var refused = await (await Submit(h.Server, flow, new JsonObject { ["address"] = theirs })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4000035L], MessageIds(refused));
        await DeliverMail(h);
        Assert.Equal(theirMails, h.MailsTo(theirs));

        var sent = await (await Submit(h.Server, flow, new JsonObject { ["address"] = mine })).Json(HttpStatusCode.BadRequest);
        Assert.Equal("sent_email", sent["state"]!.GetValue<string>());
        Assert.Equal([1010014L], MessageIds(sent));
        Assert.Contains(("code", "identifier", "hidden", (string?)mine), Nodes(sent));
        var code = await h.MailedCodeAsync(mine);
        var done = await (await Submit(h.Server, flow, new JsonObject { ["method"] = "code", ["identifier"] = mine, ["code"] = code })).Json(HttpStatusCode.OK);
        Assert.Equal(registered["identity"]!["id"]!.GetValue<string>(), done["session"]!["identity"]!["id"]!.GetValue<string>());

        // Only a refresh takes an address without a method: a new login flow says no method fits, and mails nothing.
        await DeliverMail(h);
        var mails = h.MailsTo(mine);
        var login = await ApiFlow(h.Server.Public, "login");
        Assert.Contains(("default", "identifier", "text", (string?)""), Nodes(login));
        var notRefresh = await (await Submit(h.Server, login, new JsonObject { ["address"] = mine })).Json(HttpStatusCode.BadRequest);
        Assert.Equal([4010002L], MessageIds(notRefresh));
        await DeliverMail(h);
        Assert.Equal(mails, h.MailsTo(mine));
    }
}
