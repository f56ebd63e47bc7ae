using System.Net;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.SelfService.FlowTestHelpers;

namespace Gatehouse.Tests.Http;

/// <summary>As Kratos's routers (<c>NoCacheHandle</c>): no answer of the public or admin API may be kept by a cache.</summary>
public sealed class CacheControlTests(Gatehouse.Tests.SelfService.FlowServerFixture fixture) : IClassFixture<Gatehouse.Tests.SelfService.FlowServerFixture>
{
    private const string NoCache = "private, no-cache, no-store, must-revalidate";

    private static void AssertNoCache(HttpResponseMessage response) =>
        Assert.Equal(NoCache, response.Headers.NonValidated["Cache-Control"].ToString());

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Every_get_of_the_public_and_admin_api_says_no_store_errors_included(string db)
    {
        var s = await fixture.Get(db);
        var (_, token, body) = await RegisterApi(s);
        var identityId = body["identity"]!["id"]!.GetValue<string>();

        using var whoami = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
        whoami.Headers.Add("X-Session-Token", token);
        var answer = await s.Public.SendAsync(whoami);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        AssertNoCache(answer);
        // Answered from the whoami cache this time: the same header.
        using var again = new HttpRequestMessage(HttpMethod.Get, "/sessions/whoami");
        again.Headers.Add("X-Session-Token", token);
        AssertNoCache(await s.Public.SendAsync(again));

        var flow = await s.Public.GetAsync("/self-service/login/api");
        Assert.Equal(HttpStatusCode.OK, flow.StatusCode);
        AssertNoCache(flow);
        var unauthorized = await s.Public.GetAsync("/sessions/whoami");
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        AssertNoCache(unauthorized);

        var identity = await s.AdminWithKey.GetAsync($"/admin/identities/{identityId}");
        Assert.Equal(HttpStatusCode.OK, identity.StatusCode);
        AssertNoCache(identity);
        AssertNoCache(await s.AdminWithKey.GetAsync("/identities?page_size=1"));
        var notFound = await s.AdminWithKey.GetAsync($"/admin/identities/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        AssertNoCache(notFound);
    }
}
