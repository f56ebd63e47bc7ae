using System.Net;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// <c>GET /.well-known/change-password</c> (Kratos's getWellKnownChangePassword, the W3C "change password URL"): a 303 to
/// the settings UI, so a password manager lands where the user changes the password.
/// </summary>
public sealed class WellKnownChangePasswordTests
{
    private static HttpClient NoRedirects(TestServer s) =>
        new(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(s.PublicUrl) };

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task It_sends_the_browser_to_the_configured_settings_ui(string db)
    {
        await using var s = await TestServer.StartAsync(db, o => o.Selfservice.Flows.Settings.UiUrl = "https://ui.example.com/settings");
        using var client = NoRedirects(s);

        using var response = await client.GetAsync("/.well-known/change-password");

        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal("https://ui.example.com/settings", response.Headers.Location!.ToString());
    }

    [Fact]
    public async Task Without_a_configured_ui_it_is_the_built_in_settings_page_and_that_starts_a_settings_flow()
    {
        await using var s = await TestServer.StartAsync(Db.Sqlite);
        using var client = NoRedirects(s);

        using var response = await client.GetAsync("/.well-known/change-password");
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal($"{s.PublicUrl}/ui/settings", response.Headers.Location!.ToString());

        using var page = await client.GetAsync(response.Headers.Location);
        Assert.Equal(HttpStatusCode.SeeOther, page.StatusCode);
        Assert.Equal($"{s.PublicUrl}/self-service/settings/browser", page.Headers.Location!.ToString());
    }

    [Fact]
    public async Task It_is_not_served_on_the_admin_listener()
    {
        await using var s = await TestServer.StartAsync(Db.Sqlite);
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(s.AdminUrl) };

        using var response = await client.GetAsync("/.well-known/change-password");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
