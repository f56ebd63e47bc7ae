using System.Net;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>A cookie-keeping HTTP client that does not follow redirects, to act as a browser in flow tests.</summary>
public sealed class Browser : IDisposable
{
    public Browser(string baseUrl, bool acceptJson = false)
    {
        Handler = new HttpClientHandler { CookieContainer = Cookies, UseCookies = true, AllowAutoRedirect = false };
        Client = new HttpClient(Handler) { BaseAddress = new Uri(baseUrl) };
        Client.DefaultRequestHeaders.Accept.ParseAdd(acceptJson ? "application/json" : "text/html,application/xhtml+xml");
    }

    public CookieContainer Cookies { get; } = new();
    public HttpClientHandler Handler { get; }
    public HttpClient Client { get; }

    public Cookie? Cookie(string name) => Cookies.GetAllCookies().FirstOrDefault(c => c.Name == name);

    public Task<HttpResponseMessage> PostForm(string url, IEnumerable<KeyValuePair<string, string>> form) =>
        Client.PostAsync(url, new FormUrlEncodedContent(form));

    public void Dispose()
    {
        Client.Dispose();
        Handler.Dispose();
    }
}
