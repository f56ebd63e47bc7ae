using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Gatehouse.Tests.Infrastructure;

public static class HttpAssertions
{
    public static async Task<JsonNode> Json(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected} but got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text.Length == 0 ? "null" : text) ?? JsonValue.Create("")!;
    }

    /// <summary>Asserts a Kratos error envelope with the given status and returns its <c>error</c> object.</summary>
    public static async Task<JsonObject> Error(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Json(expected);
        var error = body["error"]?.AsObject();
        Assert.NotNull(error);
        Assert.Equal((int)expected, error!["code"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(error["status"]?.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(error["message"]?.GetValue<string>()));
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.MediaType ?? "");
        return error;
    }

    public static Task<HttpResponseMessage> PostJson(this HttpClient client, string url, string json) =>
        client.PostAsync(url, new StringContent(json, Encoding.UTF8, "application/json"));

    public static Task<HttpResponseMessage> PutJson(this HttpClient client, string url, string json) =>
        client.PutAsync(url, new StringContent(json, Encoding.UTF8, "application/json"));

    public static Task<HttpResponseMessage> PatchJson(this HttpClient client, string url, string json) =>
        client.PatchAsync(url, new StringContent(json, Encoding.UTF8, "application/json"));

    public static Task<HttpResponseMessage> PostJson(this HttpClient client, string url, JsonNode json) =>
        client.PostAsJsonAsync(url, json);

    /// <summary>
    /// A JSON submit as the Ory SDKs send it: with <c>Accept: application/json</c>. Kratos answers some self-service submits
    /// by <c>Accept</c> alone (<c>x.IsBrowserRequest</c>: a verification flow sends a JSON body posted without it to the UI).
    /// </summary>
    public static Task<HttpResponseMessage> SubmitJson(this HttpClient client, string url, JsonNode json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(json) };
        request.Headers.Accept.ParseAdd("application/json");
        return client.SendAsync(request);
    }

    public static string UniqueEmail(string prefix = "user") => $"{prefix}-{Guid.NewGuid():N}@example.com";
}
