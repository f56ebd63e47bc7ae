using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.LookupSecret;

public sealed partial class LookupSecretStrategy
{
    /// <summary>Where a settings flow keeps the hashes of regenerated codes until they are confirmed (Kratos keeps the codes).</summary>
    public const string PendingContext = "lookup_secret_regenerated";

    /// <summary>
    /// Kratos's <c>PopulateSettingsMethod</c>: with codes, reveal and disable; without, regenerate. While regenerated codes
    /// wait for confirmation, only the codes — as placeholders, the flow holds only their hashes — and confirm (Kratos's
    /// regenerate removes every other node of the method, disable included).
    /// </summary>
    public void Populate(SettingsForm form) =>
        form.Ui.Nodes.AddRange(Nodes(PendingHashes(form.Flow), Enrolled(form.Identity.Credentials)));

    private static List<JsonObject> Nodes(IReadOnlyList<string>? pending, IdentityCredential? enrolled)
    {
        if (pending is not null) return [CodesNode(pending.Select(_ => ((string?)null, (string?)null))), Confirm()];
        return enrolled is null
            ? [Regenerate()]
            : [UiNodes.Submit("lookup_secret_reveal", "true", Group, Messages.RevealLookup()), Disable()];
    }

    /// <summary>
    /// The four buttons are this method's whatever <c>method</c> says (Kratos's lookup <c>Settings</c> sets the method
    /// itself when one of them is true): the built-in page's buttons post only their own name.
    /// </summary>
    bool ISettingsStrategy.Handles(string? method, JsonObject body) =>
        method == Name || ButtonFields.Any(b => FormBody.Bool(body, b)) || FormBody.UndecodableBoolean(body, SettingsStruct, ButtonFields) is not null;

    /// <summary>Kratos's Go struct for the lookup settings body and its boolean fields (the buttons), for its decode errors.</summary>
    private const string SettingsStruct = "updateSettingsFlowWithLookupMethod";

    private static readonly string[] ButtonFields = ["lookup_secret_reveal", "lookup_secret_regenerate", "lookup_secret_confirm", "lookup_secret_disable"];

    private static JsonObject Disable() => UiNodes.Submit("lookup_secret_disable", "true", Group, Messages.DisableLookup());

    private static JsonObject Confirm() => UiNodes.Submit("lookup_secret_confirm", "true", Group, Messages.ConfirmLookup());

    private static JsonObject Regenerate() => UiNodes.Submit("lookup_secret_regenerate", "true", Group, Messages.RegenerateLookup());

    /// <summary>
    /// Kratos's lookup <c>Settings</c> (a privileged session). With several buttons true, Kratos's order decides:
    /// <c>lookup_secret_confirm</c> stores the regenerated codes and adds <c>{lookup_secret, aal2}</c> to the session;
    /// else <c>lookup_secret_reveal</c> lists the codes (used ones with their time); else <c>lookup_secret_disable</c>
    /// removes them; else <c>lookup_secret_regenerate</c> makes 12 new codes and shows them with a confirm button (200 with
    /// the flow / 303 to the UI). None of them true: the method is not responsible, so the settings flow's 4010004.
    /// </summary>
    public async Task UpdateAsync(SettingsSubmission submission, CancellationToken ct)
    {
        var (identity, ui, flow, http, body) = (submission.Identity, submission.Ui, submission.Flow, submission.Http, submission.Body);
        if (FormBody.BooleanDecodeFailure(body, SettingsStruct, ButtonFields) is { } undecodable)
        {
            ui.Messages.Add(Messages.Generic(undecodable));
            await submission.RespondAsync(400, ct);
            return;
        }
        var (confirm, showCodes, disable, regenerate) =
            (Flag(body, "lookup_secret_confirm"), Flag(body, "lookup_secret_reveal"), Flag(body, "lookup_secret_disable"), Flag(body, "lookup_secret_regenerate"));
        if (!confirm && !showCodes && !disable && !regenerate)
        {
            ui.Messages.Add(Messages.SettingsNoStrategy());
            await submission.RespondAsync(400, ct);
            return;
        }
        if (!await submission.EnsurePrivilegedAsync(ct)) return;
        var enrolled = Enrolled(identity.Credentials);
        if (confirm)
        {
            if (PendingHashes(flow) is not { Count: CodeCount } pending)
            {
                ui.Messages.Add(Messages.Generic("You must (re-)generate recovery backup codes before you can save them."));
                await submission.RespondAsync(400, ct);
                return;
            }
            var config = new JsonObject { [LookupSecretCredentials.CodesKey] = new JsonArray([.. pending.Select(h => (JsonNode)LookupSecretCredentials.Entry(h, null))]) };
            await SettingsChange.SaveAsync(submission, Name, hooks, async () =>
            {
                var updated = await identities.SetCredentialAsync(identity.Id, CredentialTypes.LookupSecret, config, [identity.Id.ToString()], ct);
                flow.SetContextValue(PendingContext, null);
                reveal.Clear(http);
                await sessions.AddMethodAsync(submission.Session, new AuthenticationMethod(Name, AssuranceLevels.Aal2, flows.Now()), ct);
                return updated;
            }, ct);
            return;
        }
        if (showCodes)
        {
            if (enrolled is null)
            {
                ui.Messages.Add(Messages.Generic("Can not reveal lookup codes because you have none."));
                await submission.RespondAsync(400, ct);
                return;
            }
            var list = LookupSecretCredentials.Entries(enrolled.Config).Select(e => ((string?)null, LookupSecretCredentials.UsedAt(e)));
            ReplaceNodes(ui, [CodesNode(list), Disable(), Regenerate()]);
            await submission.RespondAsync(200, ct);
            return;
        }
        if (disable)
        {
            if (enrolled is null)
            {
                await submission.SucceedAsync(identity, null, ct);
                return;
            }
            await SettingsChange.SaveAsync(submission, Name, hooks, () =>
            {
                flow.SetContextValue(PendingContext, null);
                reveal.Clear(http);
                return identities.RemoveCredentialAsync(identity.Id, CredentialTypes.LookupSecret, ct);
            }, ct);
            return;
        }
        var codes = Enumerable.Range(0, CodeCount).Select(_ => NewCode()).ToList();
        var hashes = codes.Select(c => hasher.Hash(identity.Id, c)).ToList();
        flow.SetContextValue(PendingContext, new JsonArray([.. hashes.Select(h => (JsonNode)h)]));
        ReplaceNodes(ui, Nodes(hashes, enrolled));
        submission.ResponseOnly = json => Reveal(json, codes);
        if (flow.Type == FlowTypes.Browser && !FlowService.WantsJson(http.Request)) reveal.Set(http, flow, codes, flow.ExpiresAt - flows.Now());
        await submission.RespondAsync(200, ct);
    }

    /// <summary>The codes this browser was given for the flow, while the flow still waits for exactly them.</summary>
    public void RevealOnFetch(HttpContext http, SelfServiceFlow flow, JsonObject flowJson)
    {
        if (flow.IdentityId is not { } identityId || PendingHashes(flow) is not { } hashes || reveal.Read(http, flow) is not { } codes) return;
        if (codes.Count != hashes.Count) return;
        var all = true;
        for (var i = 0; i < codes.Count; i++) all &= hasher.Matches(identityId, codes[i], hashes[i]);
        if (all) Reveal(flowJson, codes);
    }

    private static IReadOnlyList<string>? PendingHashes(SelfServiceFlow flow) =>
        flow.ContextValue(PendingContext) is JsonArray a ? [.. a.OfType<JsonValue>().Select(v => v.GetValue<string>())] : null;

    /// <summary>Replaces this method's nodes where they stand in the form.</summary>
    private static void ReplaceNodes(UiContainer ui, List<JsonObject> nodes)
    {
        var at = ui.Nodes.FindIndex(n => n["group"]?.GetValue<string>() == Group);
        ui.Nodes.RemoveAll(n => n["group"]?.GetValue<string>() == Group);
        ui.Nodes.InsertRange(at < 0 ? ui.Nodes.Count : at, nodes);
    }

    private static bool Flag(JsonObject body, string name) => FormBody.Bool(body, name);
}
