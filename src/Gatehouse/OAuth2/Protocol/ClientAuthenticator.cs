using System.Net.Http.Headers;
using System.Text;
using Gatehouse.OAuth2.Clients;

namespace Gatehouse.OAuth2.Protocol;

/// <summary>
/// Client authentication at the token and revocation endpoints (fosite <c>client_authentication.go</c>):
/// <c>client_secret_basic</c> (HTTP Basic, id and secret form-url-encoded), <c>client_secret_post</c> (form fields),
/// <c>private_key_jwt</c> (<see cref="ClientAssertionAuthenticator"/>) and <c>none</c> for public clients. The method used
/// must be the client's <c>token_endpoint_auth_method</c>.
/// </summary>
public sealed class ClientAuthenticator(OAuth2ClientService clients, ClientAssertionAuthenticator assertions)
{
    public static OAuth2Error InvalidClient(string? hint = null) => new(401, "invalid_client",
        "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method).", hint);

    public async Task<OAuth2ClientService.Loaded> AuthenticateAsync(HttpRequest request, IFormCollection form, CancellationToken ct)
    {
        // private_key_jwt (fosite checks the assertion type first; an unknown type is invalid_request).
        var assertionType = form["client_assertion_type"].ToString();
        if (assertionType == ClientAssertionAuthenticator.JwtBearerType) return await assertions.AuthenticateAsync(form, ct);
        if (assertionType.Length > 0) throw OAuth2Error.InvalidRequest($"Unknown client_assertion_type '{assertionType}'.");

        string? id, secret;
        string method;
        if (TryBasic(request, out var basicId, out var basicSecret))
        {
            (id, secret, method) = (basicId, basicSecret, "client_secret_basic");
        }
        else
        {
            id = form["client_id"].ToString();
            secret = form["client_secret"].ToString();
            method = secret.Length > 0 ? "client_secret_post" : "none";
        }
        if (string.IsNullOrEmpty(id))
            throw OAuth2Error.InvalidRequest("Client credentials missing or malformed in both HTTP Authorization header and HTTP POST body.");

        var client = await clients.FindAsync(id, ct) ?? throw InvalidClient();
        var expected = client.Document.TokenEndpointAuthMethod;
        if (expected != method)
            throw InvalidClient($"The OAuth 2.0 Client supports client authentication method '{expected}', but method '{method}' was requested. You must configure the OAuth 2.0 client's 'token_endpoint_auth_method' value to accept '{method}'.");
        if (method != "none" && !clients.VerifySecret(client.Row, secret!)) throw InvalidClient();
        return client;
    }

    private static bool TryBasic(HttpRequest request, out string? id, out string? secret)
    {
        id = secret = null;
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization.ToString(), out var header)
            || !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase) || header.Parameter is null) return false;
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
        }
        catch (FormatException)
        {
            throw InvalidClient("The client credentials in the HTTP authorization header could not be decoded.");
        }
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0) throw InvalidClient("The client credentials in the HTTP authorization header could not be decoded.");
        // RFC 6749 2.3.1: id and secret are form-url-encoded before Basic encoding.
        id = Uri.UnescapeDataString(decoded[..colon].Replace('+', ' '));
        secret = Uri.UnescapeDataString(decoded[(colon + 1)..].Replace('+', ' '));
        return true;
    }
}
