using System.Text.Json.Nodes;
using Gatehouse.Identities;
using Gatehouse.RateLimiting;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.LookupSecret;

public sealed partial class LookupSecretStrategy
{
    /// <summary>Tries of the compare-and-swap when other codes of the identity are spent at the same moment.</summary>
    private const int SpendTries = 8;

    public string Aal => AssuranceLevels.Aal2;

    /// <summary>An aal2 login of a session whose identity has recovery codes: the code field and its submit button.</summary>
    public async Task PopulateAsync(LoginForm form, CancellationToken ct)
    {
        if (form.Current is not { } session || Enrolled(await store.CredentialsOfAsync(session.IdentityId, ct)) is null) return;
        form.Ui.Nodes.Add(UiNodes.Input("lookup_secret", "text", Group, "", required: true, label: Messages.LabelLookupSecret()));
        form.Ui.Nodes.Add(UiNodes.Submit("method", Name, Group, Messages.UseLookupSecret()));
    }

    /// <summary>
    /// Kratos's lookup <c>Login</c>: 4000014 without codes, 4000016 for a code that is not one of them, 4000012 for one
    /// already used (also when another request spent it a moment earlier). The attempt is counted before the comparison
    /// and forgotten when it succeeds.
    /// </summary>
    public Task<Identity?> AuthenticateAsync(LoginSubmission submission, CancellationToken ct) =>
        SecondFactorLogin.AuthenticateAsync(submission, store, limiter, "lookup_secret", 0, Messages.NoLookup(),
            identity => Enrolled(identity.Credentials) is { } credential ? code => SpendAsync(identity.Id, credential, code, ct) : null,
            ct);

    /// <summary>
    /// Marks the code used (Kratos: <c>used_at</c>, UTC, whole seconds) by replacing the stored config only if it is
    /// unchanged since it was read; when another request changed it first, reads it again and decides anew. Returns the
    /// refusal message, or null when the code was spent by this call.
    /// </summary>
    private async Task<JsonObject?> SpendAsync(Guid identityId, IdentityCredential credential, string code, CancellationToken ct)
    {
        var current = credential;
        for (var i = 0; i < SpendTries; i++)
        {
            var config = JsonNode.Parse(current.Config)!.AsObject();
            var entries = (config[LookupSecretCredentials.CodesKey] as JsonArray ?? []).OfType<JsonObject>().ToList();
            // Every entry is compared, so the time taken does not tell which one matched.
            JsonObject? match = null;
            foreach (var entry in entries)
            {
                if (hasher.Matches(identityId, code, entry[LookupSecretCredentials.HashKey]?.GetValue<string>())) match ??= entry;
            }
            if (match is null) return Messages.LookupInvalid();
            if (LookupSecretCredentials.IsUsed(match)) return Messages.LookupAlreadyUsed();
            var now = flows.Now();
            match[LookupSecretCredentials.UsedAtKey] = new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc)
                .ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
            if (await store.SwapCredentialConfigAsync(current.Id, current.Config, config.ToJsonString(), now, ct)) return null;
            if ((await store.CredentialsOfAsync(identityId, ct)).FirstOrDefault(c => c.Id == current.Id) is not { } reread) return Messages.NoLookup();
            current = reread;
        }
        return Messages.LookupInvalid();
    }
}
