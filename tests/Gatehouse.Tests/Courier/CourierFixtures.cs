using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Courier;
using Gatehouse.Persistence;
using Gatehouse.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Tests.Courier;

internal static class CourierFixtures
{
    /// <summary>
    /// A test server whose courier talks to <paramref name="smtpUri"/>, with a tiny back-off and few retries;
    /// <paramref name="dev"/> runs it as <c>serve --dev</c> (the courier admin API then shows bodies and subjects).
    /// </summary>
    public static Task<TestServer> StartAsync(string db, string smtpUri, Action<CourierOptions>? configure = null, bool dev = false, Action<GatehouseOptions>? configureAll = null) =>
        TestServer.StartAsync(db, o =>
        {
            o.Dev = dev;
            o.Courier.Smtp.ConnectionUri = smtpUri;
            o.Courier.Smtp.FromAddress = "accounts@gatehouse.test";
            o.Courier.Smtp.FromName = "Gatehouse Accounts";
            o.Courier.Smtp.Headers["X-Tenant"] = "acme";
            o.Courier.MessageRetries = 2;
            o.Courier.Worker.RetryBackoff = TimeSpan.FromSeconds(1);
            o.Courier.Worker.RetryBackoffMax = TimeSpan.FromSeconds(3);
            o.Courier.Worker.PullWait = TimeSpan.FromMilliseconds(20);
            configure?.Invoke(o.Courier);
            configureAll?.Invoke(o);
        });

    public static async Task<CourierMessage> QueueAsync(TestServer s, string type, string recipient, JsonObject? model = null)
    {
        await using var scope = s.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<Gatehouse.Courier.Courier>()
            .QueueEmailAsync(type, recipient, model ?? new JsonObject { ["verification_code"] = "123456", ["verification_url"] = "https://app.example/v" }, CancellationToken.None);
    }

    public static async Task<CourierMessage> LoadAsync(TestServer s, Guid id)
    {
        await using var scope = s.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GatehouseDbContext>();
        return await db.CourierMessages.AsNoTracking().Include(m => m.Dispatches).SingleAsync(m => m.Id == id);
    }
}
