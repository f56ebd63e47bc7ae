using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.OAuth2.Keys;

namespace Gatehouse.SelfService.Flows.Settings;

/// <summary>
/// The settings submits a browser flow paused for a refresh login, to finish once the browser comes back to
/// <c>GET /self-service/settings?flow=</c> (Kratos's continuity container <c>ory_kratos_settings_&lt;method&gt;</c>:
/// <c>settings.ContinuityOptions</c> — the submitted payload, the identity, 15 minutes — paused by each method's
/// <c>handleSettingsError</c> on <c>session_refresh_required</c> and taken back by <c>settings.PrepareUpdate</c>).
/// Kratos keeps the container in its <c>continuity_containers</c> table, payload in clear (a new password too), and the
/// container's id in a cookie. Gatehouse keeps it in the flow's internal context, one entry per method: the payload,
/// identity and expiry encrypted together with <c>secrets.cipher</c> (AES-GCM, <see cref="JsonWebKeyCipher"/>) and bound
/// to the flow and the method as associated data, so no secret of the payload is stored readable and an entry cannot be
/// moved to another flow or method. The browser is bound by the flow's CSRF cookie: the resumed payload's
/// <c>csrf_token</c> is checked as a submit's. An entry is taken once (an atomic swap of the internal context).
/// </summary>
public sealed class SettingsContinuity(FlowService flows, JsonWebKeyCipher cipher)
{
    /// <summary>The key of the paused submits in a settings flow's internal context.</summary>
    public const string ContextKey = "settings_continuity";

    /// <summary>How long a paused submit can be resumed (Kratos's <c>settings.ContinuityOptions</c>).</summary>
    public static readonly TimeSpan Lifespan = TimeSpan.FromMinutes(15);

    private const string Purpose = "settings_continuity";
    private const int Attempts = 3;

    /// <summary>Pauses <paramref name="body"/>, the submit of <paramref name="method"/> on <paramref name="flow"/>, replacing one paused before.</summary>
    public async Task PauseAsync(SelfServiceFlow flow, string method, Guid identityId, JsonObject body, CancellationToken ct)
    {
        var payload = body.DeepClone().AsObject();
        // The submit passed the CSRF check; one that sent its token as the X-CSRF-Token header keeps it in the payload,
        // which is all a resume (a navigation) is checked by.
        if (FormBody.String(payload, "csrf_token") is null && flow.Type == FlowTypes.Browser) payload["csrf_token"] = flow.CsrfToken;
        var entry = new JsonObject
        {
            ["identity_id"] = identityId.ToString(),
            ["expires_at"] = (flows.Now() + Lifespan).ToString("O", CultureInfo.InvariantCulture),
            ["form"] = FormBody.IsForm(body),
            ["payload"] = payload,
        };
        var sealedEntry = cipher.Encrypt(entry.ToJsonString(), Purpose + "\n" + method, flow.Id.ToString());
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var context = Parse(flow.InternalContext);
            var paused = context[ContextKey] as JsonObject ?? [];
            paused[method] = sealedEntry;
            context[ContextKey] = paused;
            if (await flows.SwapInternalContextAsync(flow, context.ToJsonString(), ct)) return;
            // Another request changed the flow (or this one changed it in memory): pause on what is stored.
            flow.InternalContext = (await flows.LoadAsync(flow.Id, flow.Kind, ct)).InternalContext;
        }
    }

    /// <summary>
    /// Takes the submit paused for <paramref name="method"/> on <paramref name="flow"/> by <paramref name="identityId"/>:
    /// the payload (a form's marked as one), or null when there is none, it expired, it is another identity's, or another
    /// request took it first. The entry is gone afterwards in every case.
    /// </summary>
    public async Task<JsonObject?> TakeAsync(SelfServiceFlow flow, string method, Guid identityId, CancellationToken ct)
    {
        var context = Parse(flow.InternalContext);
        if (context[ContextKey] is not JsonObject paused || !paused.TryGetPropertyValue(method, out var node)) return null;
        paused.Remove(method);
        if (paused.Count == 0) context.Remove(ContextKey);
        if (!await flows.SwapInternalContextAsync(flow, context.ToJsonString(), ct)) return null;
        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.String) return null;
        if (cipher.TryDecrypt(value.GetValue<string>(), Purpose + "\n" + method, flow.Id.ToString()) is not { } plain) return null;
        if (JsonNode.Parse(plain) is not JsonObject entry || entry["payload"] is not JsonObject payload) return null;
        if (!Guid.TryParse((string?)entry["identity_id"], out var owner) || owner != identityId) return null;
        if (!DateTime.TryParse((string?)entry["expires_at"], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var expiresAt) || expiresAt < flows.Now()) return null;
        return entry["form"] is JsonValue form && form.GetValueKind() == JsonValueKind.True ? FormBody.MarkAsForm(payload) : payload;
    }

    private static JsonObject Parse(string? internalContext) =>
        JsonNode.Parse(string.IsNullOrEmpty(internalContext) ? "{}" : internalContext) as JsonObject ?? [];
}
