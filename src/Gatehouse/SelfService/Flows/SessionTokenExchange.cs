using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Http.Errors;
using Gatehouse.Sessions;

namespace Gatehouse.SelfService.Flows;

/// <summary>
/// Kratos's session token exchange, for native apps that finish a social sign-in in a browser: an API login or
/// registration flow made with <c>return_session_token_exchange_code=true</c> answers with
/// <c>session_token_exchange_code</c> (the init code); when the browser finishes the flow through the provider, it is
/// sent to <c>return_to?code=&lt;return_to_code&gt;</c> instead of getting the session, and the app trades both codes at
/// <c>GET /sessions/token-exchange</c> for the session and its token, once. Only the codes' SHA-256 hashes are kept, in
/// the flow (its lifespan bounds the codes'); the init code starts with the flow's id so the exchange finds the flow.
/// </summary>
public sealed class SessionTokenExchange(FlowService flows, IFlowStore store, SessionManager sessions, SessionJson sessionJson)
{
    public const string Route = "/sessions/token-exchange";
    public const string Parameter = "return_session_token_exchange_code";
    private const string ContextKey = "session_token_exchange";

    private static readonly object NativeMarker = new();

    /// <summary>This request finishes the flow with a natively obtained ID token: the app gets the session itself, no redirect (as Kratos).</summary>
    public static void SuppressFor(HttpContext http) => http.Items[NativeMarker] = true;

    private static bool Suppressed(HttpContext http) => http.Items.ContainsKey(NativeMarker);

    /// <summary>Whether a flow init asks for an exchange code (Kratos reads the parameter as a boolean).</summary>
    public static bool Requested(HttpRequest request) => bool.TryParse(request.Query[Parameter].ToString(), out var on) && on;

    /// <summary>A new init code for the flow; its hash goes into the flow's internal context.</summary>
    public static string Start(SelfServiceFlow flow)
    {
        ArgumentNullException.ThrowIfNull(flow);
        var code = flow.Id.ToString("N") + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        flow.SetContextValue(ContextKey, new JsonObject { ["init"] = Hash(code), ["flow"] = flow.Id.ToString() });
        return code;
    }

    /// <summary>The hash of the flow's init code, when the flow waits for an exchange (no session recorded yet).</summary>
    public static string? PendingInitHash(SelfServiceFlow flow) =>
        flow.ContextValue(ContextKey) is JsonObject e && e["session"] is null ? (string?)e["init"] : null;

    /// <summary>A flow made from another (login turned registration) carries the exchange of the flow the app holds.</summary>
    public static void CarryOver(SelfServiceFlow from, SelfServiceFlow to)
    {
        if (from.ContextValue(ContextKey) is JsonObject e && e["session"] is null) to.SetContextValue(ContextKey, e.DeepClone());
    }

    /// <summary>
    /// The flow finished in the browser with <paramref name="session"/>: the session is recorded on the flow the app holds
    /// with the hash of a new return_to code, and the browser goes to <paramref name="returnTo"/> with <c>code</c> set.
    /// False when the flow has no exchange waiting.
    /// </summary>
    public async Task<bool> TryRedirectAsync(HttpContext http, SelfServiceFlow flow, Session session, string returnTo, CancellationToken ct)
    {
        if (Suppressed(http) || flow.Type != FlowTypes.Api || flow.ContextValue(ContextKey) is not JsonObject entry || entry["session"] is not null) return false;
        var returnToCode = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var done = (JsonObject)entry.DeepClone();
        done["return_to"] = Hash(returnToCode);
        done["session"] = session.Id.ToString();
        var holderId = Guid.TryParse((string?)entry["flow"], out var id) ? id : flow.Id;
        // The flow the app holds may be another one (a login that turned into this registration).
        var holder = holderId == flow.Id ? flow : await store.FindAsync(holderId, FlowKinds.Login, ct) ?? await store.FindAsync(holderId, FlowKinds.Registration, ct);
        if (holder is null) return false;
        var updated = holder.InternalContext;
        var copy = new SelfServiceFlow { InternalContext = updated };
        copy.SetContextValue(ContextKey, done);
        if (!await flows.SwapInternalContextAsync(holder, copy.InternalContext, ct)) return false;
        if (holder != flow) flow.SetContextValue(ContextKey, null);
        FlowService.Redirect(http, Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(returnTo, "code", returnToCode));
        return true;
    }

    /// <summary>
    /// <c>GET /sessions/token-exchange?init_code=&amp;return_to_code=</c>: both codes of one finished flow, once, give the
    /// session and a session token (Kratos's <c>successfulCodeExchangeResponse</c>); anything else is 404.
    /// </summary>
    public async Task ExchangeAsync(HttpContext http)
    {
        var ct = http.RequestAborted;
        var init = http.Request.Query["init_code"].ToString();
        var returnTo = http.Request.Query["return_to_code"].ToString();
        if (init.Length == 0 || returnTo.Length == 0) throw GatehouseError.BadRequest("\"init_code\" and \"return_to_code\" query params must be set");
        var unknown = GatehouseError.NotFound("no session yet for this \"code\"");
        if (init.Length < 33 || init.Length > 128 || returnTo.Length > 128 || !Guid.TryParseExact(init[..32], "N", out var flowId)) throw unknown;
        var flow = await store.FindAsync(flowId, FlowKinds.Login, ct) ?? await store.FindAsync(flowId, FlowKinds.Registration, ct) ?? throw unknown;
        if (flow.ContextValue(ContextKey) is not JsonObject entry || flows.IsExpired(flow)
            || !Same((string?)entry["init"], Hash(init)) || !Same((string?)entry["return_to"], Hash(returnTo))
            || !Guid.TryParse((string?)entry["session"], out var sessionId))
            throw unknown;
        // Once: the entry goes in one conditional update, so a second exchange (even a concurrent one) finds nothing.
        var copy = new SelfServiceFlow { InternalContext = flow.InternalContext };
        copy.SetContextValue(ContextKey, null);
        if (!await flows.SwapInternalContextAsync(flow, copy.InternalContext, ct)) throw unknown;
        var issued = await sessions.ReissueTokenAsync(sessionId, ct) ?? throw unknown;
        await Http.Json.HttpJson.WriteAsync(http, 200, new JsonObject
        {
            ["session"] = sessionJson.ToNode(issued.Session, includeIdentity: true, Identities.IdentityView.Public),
            ["session_token"] = issued.Token,
        });
    }

    private static string Hash(string code) => Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(code)));

    private static bool Same(string? a, string b) => a is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}
