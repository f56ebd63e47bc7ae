using System.Net;
using System.Text;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Pagination;
using Gatehouse.Sessions;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Tests.Sessions;

public sealed class SessionHelpersTests
{
    private static DefaultHttpContext Request(Action<IHeaderDictionary> headers)
    {
        var http = new DefaultHttpContext();
        http.Connection.RemoteIpAddress = IPAddress.Parse("::ffff:192.0.2.99");
        headers(http.Request.Headers);
        return http;
    }

    [Fact]
    public void Device_ip_follows_kratos_header_precedence()
    {
        Assert.Equal("1.1.1.1", SessionDeviceReader.ClientIp(Request(h => { h["True-Client-IP"] = "1.1.1.1"; h["Cf-Connecting-IP"] = "2.2.2.2"; h["X-Real-IP"] = "3.3.3.3"; h["X-Forwarded-For"] = "4.4.4.4"; })));
        Assert.Equal("2.2.2.2", SessionDeviceReader.ClientIp(Request(h => { h["Cf-Connecting-IP"] = "2.2.2.2"; h["X-Real-IP"] = "3.3.3.3"; h["X-Forwarded-For"] = "4.4.4.4"; })));
        Assert.Equal("3.3.3.3", SessionDeviceReader.ClientIp(Request(h => { h["X-Real-IP"] = "3.3.3.3"; h["X-Forwarded-For"] = "4.4.4.4"; })));
        Assert.Equal("4.4.4.4", SessionDeviceReader.ClientIp(Request(h => h["X-Forwarded-For"] = " 4.4.4.4 , 10.0.0.1")));
        Assert.Equal("192.0.2.99", SessionDeviceReader.ClientIp(Request(_ => { })));
    }

    [Fact]
    public void Device_user_agent_is_capped_at_512_characters_and_location_joins_city_and_country()
    {
        var http = Request(h => { h.UserAgent = new string('u', 600); h["Cf-Ipcity"] = "Lyon"; });
        var kratosHeaders = new Gatehouse.Config.SessionDevicesOptions().LocationHeaders;
        var device = SessionDeviceReader.FromRequest(http, Guid.NewGuid(), Guid.NewGuid(), DateTime.UtcNow, kratosHeaders);
        Assert.Equal(512, device.UserAgent!.Length);
        Assert.Equal("Lyon", device.Location);
        var bare = SessionDeviceReader.FromRequest(Request(_ => { }), Guid.NewGuid(), Guid.NewGuid(), DateTime.UtcNow, kratosHeaders);
        Assert.Null(bare.UserAgent);
        Assert.Equal("", bare.Location);
    }

    [Fact]
    public void Device_location_reads_the_configured_headers()
    {
        var http = Request(h => { h["X-Geo-City"] = "Oslo"; h["X-Geo-Country"] = "NO"; h["Cf-Ipcity"] = "Lyon"; });
        var device = SessionDeviceReader.FromRequest(http, Guid.NewGuid(), Guid.NewGuid(), DateTime.UtcNow, ["X-Geo-City", "X-Geo-Country"]);
        Assert.Equal("Oslo, NO", device.Location);
    }

    [Fact]
    public void Admin_page_token_round_trips_with_full_precision_and_reads_kratos_tokens()
    {
        var at = new DateTime(2026, 5, 4, 3, 2, 1, DateTimeKind.Utc).AddTicks(1234567);
        var id = Guid.CreateVersion7();
        var token = SessionPageToken.Encode(at, id);
        Assert.DoesNotContain("=", token, StringComparison.Ordinal);
        Assert.Equal($"created_at=2026-05-04 03:02:01.1234567/id={id}", Encoding.UTF8.GetString(Convert.FromBase64String(token + new string('=', (4 - token.Length % 4) % 4))));
        Assert.Equal((at, id), SessionPageToken.Decode(token));

        var kratos = Convert.ToBase64String(Encoding.UTF8.GetBytes($"created_at=2026-05-04 03:02:01.12345/id={id}")).TrimEnd('=');
        Assert.Equal((new DateTime(2026, 5, 4, 3, 2, 1, DateTimeKind.Utc).AddTicks(1234500), id), SessionPageToken.Decode(kratos));
        foreach (var bad in new[] { "", "***", Convert.ToBase64String("id=nope"u8.ToArray()), Convert.ToBase64String("created_at=2026-01-01 00:00:00"u8.ToArray()) })
        {
            var error = Assert.Throws<GatehouseError>(() => SessionPageToken.Decode(bad));
            Assert.Equal(KeysetPage.InvalidToken, error.Reason);
        }
    }

    [Fact]
    public void Offset_page_reads_page_per_page_and_kratos_offset_tokens()
    {
        static OffsetPage Parse(string query) => OffsetPage.Parse(new QueryCollection(Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query)), 250, 1000);
        Assert.Equal(new OffsetPage(0, 250), Parse(""));
        Assert.Equal(new OffsetPage(20, 10), Parse("?page=2&per_page=10"));
        Assert.Equal(new OffsetPage(0, 1000), Parse("?page_size=5000"));
        Assert.Equal(new OffsetPage(7, 10), Parse("?page_size=10&page_token=" + OffsetPage.EncodeToken(7)));
        Assert.Equal("eyJvZmZzZXQiOiI3IiwidiI6Mn0", OffsetPage.EncodeToken(7));
        Assert.Equal(KeysetPage.InvalidToken, Assert.Throws<GatehouseError>(() => Parse("?page_token=garbage")).Reason);
        Assert.Throws<GatehouseError>(() => Parse("?page=-1"));
    }

    [Theory]
    [InlineData("application/json", null, true)]
    [InlineData("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", null, false)]
    [InlineData("application/json, text/plain, */*", null, true)]
    [InlineData("text/html;q=0.5, application/json", null, true)]
    [InlineData("application/json, text/html", null, false)]
    [InlineData("*/*", null, false)]
    [InlineData("application/*", null, true)]
    [InlineData("application/json;q=0.9, */*;q=0.8", null, true)]
    [InlineData("", null, false)]
    [InlineData("", "application/json", true)]
    public void Json_requests_are_recognised_as_kratos_does(string accept, string? contentType, bool expected)
    {
        var http = new DefaultHttpContext();
        if (accept.Length > 0) http.Request.Headers.Accept = accept;
        http.Request.ContentType = contentType;
        Assert.Equal(expected, Gatehouse.Http.ContentNegotiation.WantsJson(http.Request));
    }
}
