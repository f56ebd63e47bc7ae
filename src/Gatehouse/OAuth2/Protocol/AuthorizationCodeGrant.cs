using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Clients;
using Gatehouse.OAuth2.Flows;
using Gatehouse.OAuth2.Tokens;

namespace Gatehouse.OAuth2.Protocol;

/// <summary>
/// <c>grant_type=authorization_code</c> at <c>/oauth2/token</c> (RFC 6749 4.1.3, RFC 7636), as fosite's
/// <c>flow_authorize_code_token.go</c> and <c>pkce/handler.go</c>: the code is single use — exchanging it spends it
/// atomically, and presenting it again revokes every token issued from it ("The authorization code has already been
/// used") — it must be the client's, unexpired, with the same <c>redirect_uri</c>, and the PKCE verifier must match the
/// challenge. The answer is <see cref="FlowTokenIssuer"/>'s.
/// </summary>
public sealed class AuthorizationCodeGrant(OAuth2TokenService tokens, LoginConsentService flows, FlowTokenIssuer issuer)
{
    public async Task<JsonObject> ExchangeAsync(OAuth2ClientService.Loaded client, IFormCollection form, CancellationToken ct)
    {
        if (!client.Document.GrantTypes.Contains("authorization_code"))
            throw TokenEndpoints.UnauthorizedClient("The OAuth 2.0 Client is not allowed to use authorization grant 'authorization_code'.");
        var code = form["code"].ToString();
        if (code.Length == 0) throw OAuth2Error.InvalidGrant("The authorization code is missing.");
        var row = await tokens.FindAsync(code, ct);
        if (row is null || row.Kind != OAuth2TokenKinds.AuthorizationCode)
            throw OAuth2Error.InvalidGrant("The authorization code could not be found or is malformed.");
        if (!row.Active)
        {
            // fosite: a used code revokes what it issued (RFC 6749 4.1.2: "SHOULD revoke").
            await tokens.RevokeRequestAsync(row.RequestId, ct);
            throw OAuth2Error.InvalidGrant("The authorization code has already been used.");
        }
        if (tokens.IsExpired(row)) throw OAuth2Error.InvalidGrant("The authorization code has expired.");
        if (row.ClientId != client.ClientId)
            throw OAuth2Error.InvalidGrant("The OAuth 2.0 Client ID from this request does not match the one from the authorize request.");
        var flow = await flows.FindFlowAsync(row.RequestId, ct) ?? throw OAuth2Error.InvalidGrant("The authorization code could not be found or is malformed.");
        var request = AuthorizeRequest.Load(flow.Request);

        var redirect = form["redirect_uri"].ToString();
        if ((request.RedirectUriGiven || redirect.Length > 0) && redirect != request.RedirectUri)
            throw OAuth2Error.InvalidGrant("The 'redirect_uri' from this request does not match the one from the authorize request.");

        VerifyPkce(request, form["code_verifier"].ToString());

        var scope = ScopeStrategy.Split(row.Scope);
        var audience = System.Text.Json.JsonSerializer.Deserialize<string[]>(row.Audience) ?? [];
        var claims = await issuer.RunHooksAsync(client, flow, "authorization_code", request.Scope, scope, audience, form, null, ct);

        // Spend the code; only one request can (a concurrent second one is a reuse).
        if (!await tokens.SpendAsync(row, ct))
        {
            await tokens.RevokeRequestAsync(row.RequestId, ct);
            throw OAuth2Error.InvalidGrant("The authorization code has already been used.");
        }

        return await issuer.IssueAsync(client, flow, "authorization_code", scope, audience, ResponseTypeSet.IsHybrid(request.ResponseTypes) ? code : null, ct, claims);
    }

    /// <summary>fosite's PKCE handler: with a challenge the verifier is required and must hash to it (S256, constant time).</summary>
    private static void VerifyPkce(AuthorizeRequest request, string verifier)
    {
        if (request.CodeChallenge.Length == 0)
        {
            if (verifier.Length > 0) throw OAuth2Error.InvalidGrant("The PKCE code verifier was provided but the authorization request did not include a code challenge.");
            return;
        }
        if (verifier.Length == 0) throw OAuth2Error.InvalidGrant("The PKCE code verifier must be provided.");
        if (verifier.Length is < 43 or > 128 || !verifier.All(AuthorizeRequest.IsUnreserved))
            throw OAuth2Error.InvalidGrant("The PKCE code verifier must be 43 to 128 characters of [A-Z] / [a-z] / [0-9] / '-' / '.' / '_' / '~'.");
        var computed = Encoding.ASCII.GetBytes(System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
        if (!CryptographicOperations.FixedTimeEquals(computed, Encoding.ASCII.GetBytes(request.CodeChallenge)))
            throw OAuth2Error.InvalidGrant("The PKCE code challenge did not match the code verifier.");
    }
}
