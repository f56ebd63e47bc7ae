using System.Text.Json.Nodes;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.Oidc;

public sealed partial class OidcStrategy
{
    /// <summary>The ids of the providers linked to the identity (its <c>oidc</c> credential's entries), in the credential's order.</summary>
    private static List<(string Provider, string Subject)> LinkedAccounts(Identity identity)
    {
        var credential = identity.Credentials.FirstOrDefault(c => c.Type == CredentialTypes.Oidc);
        if (credential is null || JsonNode.Parse(credential.Config) is not JsonObject config || config["providers"] is not JsonArray providers) return [];
        return [.. providers.OfType<JsonObject>()
            .Select(p => ((string?)p["provider"] ?? "", (string?)p["subject"] ?? ""))
            .Where(p => p.Item1.Length > 0 && p.Item2.Length > 0)];
    }

    private static string SettingsLabel(Config.OidcProviderOptions p) => string.IsNullOrEmpty(p.Label) ? p.Id : p.Label;

    /// <summary>
    /// Kratos's oidc settings nodes: per configured provider a <c>link</c> submit (1050002 "Link &lt;label&gt;") when the
    /// identity has none of its accounts, else an <c>unlink</c> submit (1050003) — only while the identity has another
    /// first factor, so the last way to sign in is never offered for removal.
    /// </summary>
    public void Populate(SettingsForm form)
    {
        var linked = LinkedAccounts(form.Identity).Select(a => a.Provider).ToHashSet(StringComparer.Ordinal);
        var canUnlink = kinds.CountFirstFactor(form.Identity) > 1;
        foreach (var p in Providers)
        {
            if (!linked.Contains(p.Id)) form.Ui.Nodes.Add(UiNodes.Submit("link", p.Id, Group, Messages.LinkProvider(SettingsLabel(p))));
            else if (canUnlink) form.Ui.Nodes.Add(UiNodes.Submit("unlink", p.Id, Group, Messages.UnlinkProvider(SettingsLabel(p))));
        }
    }

    /// <summary>
    /// Kratos's oidc <c>Settings</c>: <c>link</c> sends the browser to the provider (303; JSON clients 422
    /// <c>browser_location_change_required</c>) and the callback adds the account (<see cref="LinkAsync"/>); <c>unlink</c>
    /// removes the provider's account unless it is the identity's last first factor. Both need a privileged session.
    /// </summary>
    public async Task UpdateAsync(SettingsSubmission submission, CancellationToken ct)
    {
        var (ui, body) = (submission.Ui, submission.Body);
        var link = FormBody.String(body, "link") ?? "";
        var unlink = FormBody.String(body, "unlink") ?? "";
        if (link.Length > 0 && unlink.Length > 0)
        {
            await RefuseAsync(submission, "it is not possible to link and unlink providers in the same request", ct);
            return;
        }
        if (link.Length == 0 && unlink.Length == 0)
        {
            ui.Messages.Add(Messages.SettingsNoStrategy());
            await submission.RespondAsync(400, ct);
            return;
        }
        var identity = await store.FindConfidentialAsync(submission.Identity.Id, ct) ?? submission.Identity;
        var linked = LinkedAccounts(identity);
        if (link.Length > 0)
        {
            // Kratos checks that the provider can be linked before the session's age.
            if (Provider(link) is null || linked.Any(a => a.Provider == link))
            {
                await RefuseAsync(submission, ConnectionExists, ct);
                return;
            }
            if (!await submission.EnsurePrivilegedAsync(ct)) return;
            ui.ClearMessages();
            var url = await StartAsync(submission.Http, submission.Flow, ui, body, ct, link);
            if (url is null)
            {
                await submission.RespondAsync(400, ct);
                return;
            }
            submission.Flow.Ui = ui.ToJson().ToJsonString();
            await flows.UpdateAsync(submission.Flow, ct);
            if (submission.Flow.Type == FlowTypes.Api || FlowService.WantsJson(submission.Http.Request))
                throw FlowResponder.BrowserLocationChangeRequired(url);
            FlowService.Redirect(submission.Http, url);
            return;
        }

        if (!await submission.EnsurePrivilegedAsync(ct)) return;
        if (kinds.CountFirstFactor(identity) < 2)
        {
            await RefuseAsync(submission, "can not unlink OpenID Connect connection because it is the last remaining first factor credential", ct);
            return;
        }
        var accounts = Provider(unlink) is null ? [] : linked.Where(a => a.Provider == unlink).ToList();
        if (accounts.Count == 0)
        {
            await RefuseAsync(submission, "can not unlink non-existing OpenID Connect connection", ct);
            return;
        }
        await SettingsChange.SaveAsync(submission, Name, hooks, async () =>
        {
            foreach (var (provider, subject) in accounts) await identities.DeleteCredentialAsync(identity.Id, CredentialTypes.Oidc, $"{provider}:{subject}", ct);
            return await identities.GetAsync(identity.Id, ct);
        }, ct);
    }

    private const string ConnectionExists = "can not link unknown or already existing OpenID Connect connection";

    /// <summary>Kratos's validation errors of the settings method: 4000001 with the reason on the form, 400.</summary>
    private static Task RefuseAsync(SettingsSubmission submission, string reason, CancellationToken ct)
    {
        submission.Ui.ClearMessages();
        submission.Ui.Messages.Add(Messages.Generic(reason));
        return submission.RespondAsync(400, ct);
    }

    /// <summary>
    /// The provider signed the user in for a settings flow's <c>link</c> (Kratos's <c>linkProvider</c>): with a privileged
    /// session, a provider still linkable and an account no identity uses yet (else 4000007: Kratos's settings hook
    /// executor turns the identity update's unique violation into <c>schema.NewDuplicateCredentialsError</c>, without
    /// hints), the account is added to the identity, the session records the method with its provider, and the settings
    /// hooks run.
    /// </summary>
    public async Task LinkAsync(SettingsSubmission submission, Config.OidcProviderOptions provider, JsonObject claims, OidcTokens tokens, CancellationToken ct)
    {
        var subject = (string)claims["sub"]!;
        if (!await submission.EnsurePrivilegedAsync(ct)) return;
        var identity = await store.FindConfidentialAsync(submission.Identity.Id, ct) ?? submission.Identity;
        if (LinkedAccounts(identity).Any(a => a.Provider == provider.Id))
        {
            await RefuseAsync(submission, ConnectionExists, ct);
            return;
        }
        var identifier = $"{provider.Id}:{subject}";
        if (await store.FindByIdentifierAsync(CredentialTypes.Oidc, identifier, ct) is not null)
        {
            submission.Ui.ClearMessages();
            submission.Ui.Messages.Add(Messages.DuplicateCredentials());
            await submission.RespondAsync(400, ct);
            return;
        }
        // The entry as a sign-up stores it: provider, subject and the upstream tokens encrypted.
        var config = new JsonObject { ["providers"] = new JsonArray(OidcCredentials.Entry(cipher, provider.Id, subject, tokens)) };
        await SettingsChange.SaveAsync(submission, Name, hooks, async () =>
        {
            var updated = await identities.AddCredentialAsync(identity.Id, CredentialTypes.Oidc, config, [identifier], ct);
            await sessions.AddMethodAsync(submission.Session, Proof(provider, claims, flows.Now()), ct);
            return updated;
        }, ct);
    }
}
