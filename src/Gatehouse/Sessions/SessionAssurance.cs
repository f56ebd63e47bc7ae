using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.Http.Errors;
using Gatehouse.Identities;

namespace Gatehouse.Sessions;

/// <summary>
/// Whether a session's assurance level is enough for a feature (Kratos's <c>DoesSessionSatisfy</c>): whoami and the
/// caller's session list read <c>session.whoami.required_aal</c>, settings <c>selfservice.flows.settings.required_aal</c>.
/// <c>highest_available</c> refuses an aal1 session of an identity that has a second factor; <c>aal1</c> takes any
/// authenticated session. The refusal is 403 <c>session_aal2_required</c> pointing to an <c>aal=aal2</c> login.
/// </summary>
public sealed class SessionAssurance(IPrivilegedIdentityStore store, CredentialKinds kinds, GatehouseOptions options)
{
    public const string HighestAvailable = "highest_available";

    private readonly string _loginUrl = ReturnUrlPolicy.PublicBaseUrl(options).TrimEnd('/') + "/self-service/login/browser";

    /// <summary><c>session.whoami.required_aal</c>.</summary>
    public string WhoamiRequiredAal => options.Session.Whoami.RequiredAal;

    /// <summary><c>selfservice.flows.settings.required_aal</c>.</summary>
    public string SettingsRequiredAal => options.Selfservice.Flows.Settings.RequiredAal;

    /// <summary>
    /// Whether the session is enough for <paramref name="requiredAal"/>. An aal2 session always is; otherwise, for
    /// <c>highest_available</c>, the identity's credentials are read (one statement) to learn whether it has a second factor —
    /// unless the session's identity is the one a sign-in just read with all its credentials (<see cref="CompleteCredentials"/>).
    /// </summary>
    public async Task<bool> SatisfiesAsync(Session session, string requiredAal, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (session.Aal == AssuranceLevels.Aal2) return true;
        if (requiredAal != HighestAvailable) return session.Aal == AssuranceLevels.Aal1;
        if (session.Identity is { } identity && identity.Id == session.IdentityId && CompleteCredentials.Of(identity) is { } credentials)
            return kinds.AvailableAal(new Identity { Id = identity.Id, Credentials = credentials }) != AssuranceLevels.Aal2;
        return await AvailableAalAsync(session.IdentityId, ct) != AssuranceLevels.Aal2;
    }

    /// <summary>The highest level the identity can reach with its credentials (Kratos's <c>AvailableAAL</c>).</summary>
    public async Task<string> AvailableAalAsync(Guid identityId, CancellationToken ct) =>
        kinds.AvailableAal(new Identity { Id = identityId, Credentials = await store.CredentialsOfAsync(identityId, ct) });

    /// <summary>Throws <see cref="Aal2Required"/> unless the session satisfies <paramref name="requiredAal"/>.</summary>
    public async Task EnsureAsync(Session session, string requiredAal, string? requestUrl, CancellationToken ct)
    {
        if (!await SatisfiesAsync(session, requiredAal, ct)) throw Aal2Required(StepUpUrl(requestUrl));
    }

    /// <summary>
    /// The login that upgrades the session: <c>/self-service/login/browser?aal=aal2</c>, carrying <c>login_challenge</c> and
    /// <c>return_to</c> from <paramref name="requestUrl"/> (Kratos's <c>PassReturnToAndLoginChallengeParameters</c>).
    /// </summary>
    public string StepUpUrl(string? requestUrl = null)
    {
        var url = _loginUrl + "?aal=aal2";
        if (requestUrl is null || !Uri.TryCreate(requestUrl, UriKind.Absolute, out var request)) return url;
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(request.Query);
        if (query.TryGetValue("login_challenge", out var challenge) && challenge.ToString().Length > 0)
            url += "&login_challenge=" + QueryEscape(challenge.ToString());
        if (query.TryGetValue("return_to", out var returnTo) && returnTo.ToString().Length > 0)
            url += "&return_to=" + QueryEscape(returnTo.ToString());
        return url;
    }

    /// <summary>Go's <c>url.QueryEscape</c> (Kratos builds the URL with <c>url.Values.Encode</c>): a space is <c>+</c>.</summary>
    private static string QueryEscape(string value) => Uri.EscapeDataString(value).Replace("%20", "+", StringComparison.Ordinal);

    /// <summary>
    /// The step-up URL whose <c>return_to</c> is <paramref name="returnTo"/> itself (a settings flow sends the user back to
    /// where they were, as Kratos's <c>WithRequestURL</c>), with a <c>login_challenge</c> of that URL carried along.
    /// </summary>
    public string StepUpUrlReturningTo(string returnTo)
    {
        var url = _loginUrl + "?aal=aal2";
        if (Uri.TryCreate(returnTo, UriKind.Absolute, out var target)
            && Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(target.Query).TryGetValue("login_challenge", out var challenge) && challenge.ToString().Length > 0)
            url += "&login_challenge=" + QueryEscape(challenge.ToString());
        return url + "&return_to=" + QueryEscape(returnTo);
    }

    /// <summary>Kratos's <c>ErrAALNotSatisfied</c>: 403 with <c>redirect_browser_to</c> in the details and beside the error.</summary>
    public static GatehouseError Aal2Required(string redirectTo) =>
        new(403,
            "An active session was found but it does not fulfill the requested Authenticator Assurance Level. Please verify yourself with a second factor to resolve this issue.",
            "session_aal2_required",
            "Session does not fulfill the requested Authenticator Assurance Level",
            new JsonObject { ["redirect_browser_to"] = redirectTo })
        {
            Siblings = new JsonObject { ["redirect_browser_to"] = redirectTo },
        };
}
