using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace Gatehouse.Tests.OAuth2;

public static class OAuth2Assertions
{
    /// <summary>Asserts Hydra's RFC 6749 error JSON (<c>{"error","error_description"}</c>) and returns it.</summary>
    public static async Task<JsonObject> OAuth2Error(this HttpResponseMessage response, HttpStatusCode expected, string? error = null)
    {
        var body = (await response.Json(expected)).AsObject();
        Assert.Equal(["error", "error_description"], body.Select(kv => kv.Key));
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.MediaType ?? "");
        if (error is not null) Assert.Equal(error, body["error"]!.GetValue<string>());
        return body;
    }

    /// <summary>
    /// Asserts Hydra's <c>forwardError</c> to the default <c>urls.error</c>: a <c>302</c> to
    /// <c>&lt;public URL&gt;/oauth2/fallbacks/error</c> with exactly <c>error</c> and <c>error_description</c>; returns them.
    /// </summary>
    public static Dictionary<string, string> FallbackError(this HttpResponseMessage response, string publicUrl, string? error = null)
    {
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith(publicUrl.TrimEnd('/') + "/oauth2/fallbacks/error?", location.ToString());
        var q = QueryHelpers.ParseQuery(location.Query).ToDictionary(kv => kv.Key, kv => kv.Value.ToString());
        Assert.Equal(["error", "error_description"], q.Keys.Order());
        if (error is not null) Assert.Equal(error, q["error"]);
        Assert.False(string.IsNullOrEmpty(q["error_description"]));
        return q;
    }
}
