using System.Net;
using Gatehouse.Config;
using Gatehouse.RateLimiting;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.RateLimiting;

public sealed class ClientAddressesTests
{
    private static DefaultHttpContext Request(string peer, params string[] forwarded)
    {
        var http = new DefaultHttpContext();
        http.Connection.RemoteIpAddress = IPAddress.Parse(peer);
        if (forwarded.Length > 0) http.Request.Headers["X-Forwarded-For"] = forwarded;
        return http;
    }

    private static ClientAddresses With(params string[] trusted) =>
        new(new GatehouseOptions { Gatehouse = new GatehouseSectionOptions { TrustedProxies = [.. trusted] } });

    [Fact]
    public void Without_trusted_proxies_x_forwarded_for_is_ignored() =>
        Assert.Equal(IPAddress.Parse("10.1.2.3"), With().Of(Request("10.1.2.3", "203.0.113.9")));

    [Fact]
    public void A_trusted_proxy_names_the_right_most_untrusted_hop()
    {
        var addresses = With("10.0.0.0/8", "192.0.2.1");
        Assert.Equal(IPAddress.Parse("203.0.113.9"), addresses.Of(Request("10.1.2.3", "198.51.100.1, 203.0.113.9, 192.0.2.1")));
        Assert.Equal(IPAddress.Parse("203.0.113.9"), addresses.Of(Request("10.1.2.3", "198.51.100.1", "203.0.113.9:5123")));
        // An untrusted peer cannot name anyone.
        Assert.Equal(IPAddress.Parse("198.51.100.50"), addresses.Of(Request("198.51.100.50", "203.0.113.9")));
        // Garbage in the header: the last trusted hop counts.
        Assert.Equal(IPAddress.Parse("10.1.2.3"), addresses.Of(Request("10.1.2.3", "not-an-address")));
        // Only trusted proxies in the chain: the outermost of them.
        Assert.Equal(IPAddress.Parse("10.9.9.9"), addresses.Of(Request("10.1.2.3", "10.9.9.9")));
    }

    [Fact]
    public void Ipv6_clients_count_per_64_and_loopback_is_exempt_when_configured()
    {
        var addresses = With();
        Assert.Equal("2001:db8:1:2::/64", addresses.BucketOf(Request("2001:db8:1:2:aaaa::1"), exemptLoopback: true));
        Assert.Equal("2001:db8:1:2::/64", addresses.BucketOf(Request("2001:db8:1:2:bbbb::7"), exemptLoopback: true));
        Assert.Equal("203.0.113.4", addresses.BucketOf(Request("::ffff:203.0.113.4"), exemptLoopback: true));
        Assert.Null(addresses.BucketOf(Request("127.0.0.1"), exemptLoopback: true));
        Assert.Null(addresses.BucketOf(Request("::1"), exemptLoopback: true));
        Assert.Equal("127.0.0.1", addresses.BucketOf(Request("127.0.0.1"), exemptLoopback: false));
        Assert.Null(addresses.BucketOf(new DefaultHttpContext(), exemptLoopback: false));
    }

    [Fact]
    public void A_trusted_proxy_entry_that_is_no_address_is_refused_at_start_up()
    {
        var dir = Directory.CreateTempSubdirectory("gatehouse-rl-");
        try
        {
            var file = Path.Combine(dir.FullName, "c.yml");
            File.WriteAllText(file, "dsn: memory\ngatehouse:\n  trusted_proxies: [\"10.0.0.0/8\", \"proxy.internal\"]\n");
            var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load([file], new Dictionary<string, string?>(), dev: false));
            Assert.Contains("gatehouse.trusted_proxies", e.Message);
            Assert.Contains("proxy.internal", e.Message);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Rate_limits_are_on_by_default_configurable_and_dev_multiplies_them()
    {
        var dir = Directory.CreateTempSubdirectory("gatehouse-rl-");
        try
        {
            var file = Path.Combine(dir.FullName, "c.yml");
            File.WriteAllText(file, "dsn: memory\ngatehouse:\n  rate_limits:\n    login_per_identifier: { limit: 5 }\n  hashing: { queue: { concurrency: 3, max_queued: 7, max_wait: 2s } }\n");
            var options = ConfigLoader.Load([file], new Dictionary<string, string?>(), dev: false).Options;
            var limits = options.Gatehouse.RateLimits;
            Assert.True(limits.Enabled);
            Assert.Equal(5, limits.LoginPerIdentifier.Limit);
            Assert.Equal(TimeSpan.FromHours(1), limits.LoginPerIdentifier.Window); // kept from the default
            Assert.Equal(TimeSpan.FromSeconds(1), limits.LoginPerIdentifier.ProgressiveDelay);
            Assert.Equal(300, limits.FlowsPerAddress.Limit);
            Assert.Equal(3, options.Gatehouse.Hashing.Queue.Concurrency);
            Assert.Equal(TimeSpan.FromSeconds(2), options.Gatehouse.Hashing.Queue.MaxWait);
            Assert.Equal(10, RateLimiter.DevFactor);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
