using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Tests.Infrastructure;

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
}
