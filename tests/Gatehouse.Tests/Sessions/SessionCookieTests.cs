using Gatehouse.Config;
using Gatehouse.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Sessions;

public sealed class SessionCookieTests
{
    private static GatehouseOptions Options(Action<GatehouseOptions>? configure = null)
    {
        var o = new GatehouseOptions();
        o.Secrets.Default = ["a-default-secret-that-is-long-enough"];
        o.Serve.Public.BaseUrl = "https://auth.example.com/";
        configure?.Invoke(o);
        return o;
    }

    private static string SetCookie(SessionCookie cookie, DateTime expiresAt)
    {
        var http = new DefaultHttpContext();
        cookie.Write(http, "ory_st_token", expiresAt);
        return http.Response.Headers.SetCookie.ToString();
    }

    [Fact]
    public void Cookie_is_http_only_lax_secure_on_https_with_max_age_of_the_remaining_lifetime()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var header = SetCookie(new SessionCookie(Options(), time), time.GetUtcNow().UtcDateTime.AddHours(2));
        Assert.StartsWith("ory_kratos_session=", header, StringComparison.Ordinal);
        Assert.Contains("max-age=7200", header, StringComparison.Ordinal);
        Assert.Contains("path=/", header, StringComparison.Ordinal);
        Assert.Contains("secure", header, StringComparison.Ordinal);
        Assert.Contains("samesite=lax", header, StringComparison.Ordinal);
        Assert.Contains("httponly", header, StringComparison.Ordinal);
    }

    [Fact]
    public void Cookie_settings_follow_session_cookie_then_cookies_config()
    {
        var cookie = new SessionCookie(Options(o =>
        {
            o.Session.Cookie.Name = "my_session";
            o.Session.Cookie.Persistent = false;
            o.Session.Cookie.SameSite = "Strict";
            o.Session.Cookie.Path = "/app";
            o.Cookies.Domain = "example.com";
            o.Cookies.Secure = false;
        }), TimeProvider.System);
        var header = SetCookie(cookie, DateTime.UtcNow.AddHours(1));
        Assert.StartsWith("my_session=", header, StringComparison.Ordinal);
        Assert.DoesNotContain("max-age", header, StringComparison.Ordinal);
        Assert.DoesNotContain("secure", header, StringComparison.Ordinal);
        Assert.Contains("samesite=strict", header, StringComparison.Ordinal);
        Assert.Contains("path=/app", header, StringComparison.Ordinal);
        Assert.Contains("domain=example.com", header, StringComparison.Ordinal);
    }

    [Fact]
    public void Dev_mode_on_plain_http_is_never_secure_and_none_falls_back_to_lax()
    {
        var cookie = new SessionCookie(Options(o => { o.Dev = true; o.Serve.Public.BaseUrl = "http://127.0.0.1:4433/"; o.Cookies.SameSite = "None"; }), TimeProvider.System);
        Assert.False(cookie.Secure);
        Assert.Equal(SameSiteMode.Lax, cookie.SameSite);
    }

    [Fact]
    public void Value_round_trips_and_rejects_tampering_and_expired_cookies()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var cookie = new SessionCookie(Options(), time);
        var expires = time.GetUtcNow().UtcDateTime.AddMinutes(30);
        var value = cookie.Protect("ory_st_abc", expires);
        Assert.True(cookie.TryUnprotect(value, out var token, out var at));
        Assert.Equal("ory_st_abc", token);
        Assert.Equal(expires, at);
        Assert.False(cookie.TryUnprotect(value[..^2] + (value[^2] == 'x' ? "y" : "x") + value[^1], out _, out _));
        Assert.False(cookie.TryUnprotect("", out _, out _));
        Assert.False(cookie.TryUnprotect("!!!", out _, out _));

        var http = new DefaultHttpContext();
        http.Request.Headers.Cookie = "ory_kratos_session=" + value;
        Assert.True(cookie.TryRead(http, out _, out _));
        time.Advance(TimeSpan.FromMinutes(31));
        Assert.False(cookie.TryRead(http, out _, out _));
    }

    [Fact]
    public void Without_any_secret_a_process_random_key_still_protects_cookies()
    {
        var cookie = new SessionCookie(new GatehouseOptions(), TimeProvider.System);
        var value = cookie.Protect("ory_st_abc", DateTime.UtcNow.AddMinutes(1));
        Assert.True(cookie.TryUnprotect(value, out var token, out _));
        Assert.Equal("ory_st_abc", token);
        Assert.False(new SessionCookie(new GatehouseOptions(), TimeProvider.System).TryUnprotect(value, out _, out _));
    }

    [Fact]
    public void Logout_token_is_stable_per_session_token_and_differs_between_sessions()
    {
        var a = SessionTokens.NewSessionToken();
        var b = SessionTokens.NewSessionToken();
        Assert.NotEqual(a, b);
        Assert.Equal(SessionTokens.LogoutTokenFor(a), SessionTokens.LogoutTokenFor(a));
        Assert.NotEqual(SessionTokens.LogoutTokenFor(a), SessionTokens.LogoutTokenFor(b));
        Assert.Matches("^ory_lo_[A-Za-z0-9]{32}$", SessionTokens.LogoutTokenFor(a));
    }
}
