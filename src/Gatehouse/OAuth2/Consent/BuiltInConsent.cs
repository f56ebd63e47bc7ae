using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.OAuth2.Flows;

namespace Gatehouse.OAuth2.Consent;

/// <summary>
/// The consent app built into Gatehouse (used when <c>urls.consent</c> is not set), written against the same consent
/// requests a Hydra consent app reads and answers: a remembered consent (<c>skip</c>) or a client marked
/// <c>skip_consent</c> is accepted without asking; otherwise the page asks and this accepts what the user granted, with
/// the claims of <see cref="ClaimsMapper"/>, or rejects with <c>access_denied</c>.
/// </summary>
public sealed class BuiltInConsent(LoginConsentService flows, ClaimsMapper claims, GatehouseOptions options)
{
    /// <summary>A consent request to answer, or the URL to send the browser to because it was answered already.</summary>
    public sealed record Loaded(JsonObject? Request, string? GoneTo)
    {
        public string Subject => Request!["subject"]!.GetValue<string>();
        public JsonObject Client => Request!["client"]!.AsObject();
        public IReadOnlyList<string> RequestedScope => Strings(Request!["requested_scope"]);

        /// <summary>Remembered (Hydra's <c>skip</c>) or a first-party client (<c>skip_consent</c>): nothing to ask.</summary>
        public bool AnswerWithoutAsking =>
            Request!["skip"]?.GetValue<bool>() == true || Client["skip_consent"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
    }

    /// <summary>The consent request; an unknown or expired challenge is Hydra's 404 <see cref="OAuth2Error"/>.</summary>
    public async Task<Loaded> LoadAsync(string challenge, CancellationToken ct)
    {
        var answer = await flows.GetConsentRequestAsync(challenge, ct);
        return answer.Status == 200 ? new Loaded(answer.Body, null) : new Loaded(null, answer.Body["redirect_to"]!.GetValue<string>());
    }

    /// <summary>
    /// Accepts <paramref name="grantScope"/> (only scopes that were requested count) and every requested audience,
    /// remembered for <c>oauth2.consent.remember_for</c> when <paramref name="remember"/>; answers where the browser goes.
    /// </summary>
    public async Task<string> AcceptAsync(string challenge, Loaded request, IEnumerable<string> grantScope, bool remember, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var requested = request.RequestedScope;
        var granted = grantScope.Where(requested.Contains).Distinct(StringComparer.Ordinal).ToList();
        var (idToken, accessToken) = await claims.MapAsync(request.Subject, granted, request.Client, ct);
        var body = new JsonObject
        {
            ["grant_scope"] = new JsonArray([.. granted.Select(s => (JsonNode)s)]),
            ["grant_access_token_audience"] = request.Request!["requested_access_token_audience"]?.DeepClone() ?? new JsonArray(),
            ["remember"] = remember,
            ["remember_for"] = (long)options.Oauth2.Consent.RememberFor.TotalSeconds,
            ["session"] = new JsonObject { ["id_token"] = idToken, ["access_token"] = accessToken },
        };
        return RedirectTo(await flows.AcceptConsentAsync(challenge, body, ct));
    }

    /// <summary>The user said no: the client gets <c>access_denied</c> (RFC 6749 4.1.2.1).</summary>
    public async Task<string> RejectAsync(string challenge, CancellationToken ct) =>
        RedirectTo(await flows.RejectConsentAsync(challenge, new JsonObject
        {
            ["error"] = "access_denied",
            ["error_description"] = "The resource owner denied the request",
        }, ct));

    /// <summary>Both 200 and 410 name where the browser goes (the next step, or the request again).</summary>
    private static string RedirectTo(LoginConsentService.AdminAnswer answer) => answer.Body["redirect_to"]!.GetValue<string>();

    private static List<string> Strings(JsonNode? node) =>
        node is JsonArray a ? [.. a.Select(x => x?.GetValue<string>()).OfType<string>()] : [];
}
