using System.Text.Json.Nodes;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.Password;

public sealed partial class PasswordStrategy
{
    public string Aal => AssuranceLevels.Aal1;

    public async Task PopulateAsync(LoginForm form, CancellationToken ct)
    {
        var ui = form.Ui;
        if (form.Refreshing is { } session)
        {
            var identifier = session.Identity?.Credentials.FirstOrDefault(c => c.Type == CredentialTypes.Password)?.Identifiers.FirstOrDefault()?.Identifier
                ?? await store.FirstIdentifierAsync(session.IdentityId, CredentialTypes.Password, ct) ?? "";
            ui.Nodes.Add(UiNodes.Input("identifier", "hidden", UiNodes.DefaultGroup, identifier, required: true));
            ui.Nodes.Add(UiNodes.Input("password", "password", UiNodes.PasswordGroup, required: true, autocomplete: "current-password", label: Messages.LabelPassword()));
            ui.Nodes.Add(UiNodes.Submit("method", Name, UiNodes.PasswordGroup, Messages.SignIn()));
            return;
        }
        // The identifier comes first in Kratos's sorted form, before the CSRF token.
        ui.Nodes.Insert(0, UiNodes.Input("identifier", "text", UiNodes.DefaultGroup, "", required: true, autocomplete: "username", label: Messages.LabelId()));
        ui.Nodes.Add(UiNodes.Input("password", "password", UiNodes.PasswordGroup, required: true, autocomplete: "current-password", label: Messages.LabelPassword()));
        ui.Nodes.Add(UiNodes.Submit("method", Name, UiNodes.PasswordGroup, Messages.SignInWithPassword()));
    }

    /// <summary>
    /// The identifier-first login's second screen: the password field and button when the identity has a password — or,
    /// with account enumeration mitigated, for every identifier (the identifier node is the identifier-first method's).
    /// </summary>
    public Task<bool> PopulateIdentifierFirstCredentialsAsync(LoginForm form, IdentifierFirstHint hint, CancellationToken ct)
    {
        var count = hint.Identity?.Credentials.Where(c => c.Type == CredentialTypes.Password).Sum(Kind.CountFirstFactor) ?? 0;
        if (count > 0 || hint.MitigateEnumeration)
        {
            form.Ui.Nodes.Add(UiNodes.Input("password", "password", UiNodes.PasswordGroup, required: true, autocomplete: "current-password", label: Messages.LabelPassword()));
            form.Ui.Nodes.Add(UiNodes.Submit("method", Name, UiNodes.PasswordGroup, Messages.SignInWithPassword()));
        }
        return Task.FromResult(count > 0);
    }

    private static readonly PasswordCredentials Kind = new();

    /// <summary>An identifier or address this process knows to be throttled gets its 429 before the flow is read.</summary>
    public Http.Errors.GatehouseError? RefusedBeforeFlow(HttpContext http, JsonObject body) =>
        Identifier(body) is { Length: > 0 } identifier && (FormBody.String(body, "password") ?? "").Length > 0
            ? attempts.RefusedInMemory(http, identifier)
            : null;

    private static string Identifier(JsonObject body) =>
        (FormBody.String(body, "identifier") ?? FormBody.String(body, "password_identifier") ?? "").Trim();

    public async Task<Identity?> AuthenticateAsync(LoginSubmission submission, CancellationToken ct)
    {
        var (flow, ui, body) = (submission.Flow, submission.Ui, submission.Body);
        var identifier = Identifier(body);
        var password = FormBody.String(body, "password") ?? "";
        if (!flow.Refresh) ui.SetValue("identifier", identifier);
        if (identifier.Length == 0 || password.Length == 0)
        {
            if (identifier.Length == 0) ui.AddMessage("identifier", Messages.Required("identifier"));
            if (password.Length == 0) ui.AddMessage("password", Messages.Required("password"));
            return null;
        }

        // Counted before the comparison (brute-force protection); a 429 here changes nothing else.
        var attempt = await attempts.BeginAsync(submission.Http, identifier, ct);
        var identity = await store.FindByIdentifierAsync(CredentialTypes.Password, Schemas.IdentifierNormalizer.Graceful(identifier), ct);
        var credential = identity?.Credentials.FirstOrDefault(c => c.Type == CredentialTypes.Password);
        var stored = credential is null ? null : JsonNode.Parse(credential.Config);
        var hash = stored?["hashed_password"] is JsonValue h && h.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;
        // An identity imported for migration: the old system checks the password (Kratos's password migration hook);
        // once it matches, the password is hashed here and the hook is not asked again.
        if (identity is not null && hash is null && PasswordMigrationHook.Requested(stored))
        {
            if (!await migration.VerifyAsync(submission.Http, flow, identity, identifier, password, ct))
            {
                ui.Messages.Add(Messages.InvalidCredentials());
                return null;
            }
            await attempt.SucceededAsync(ct);
            // Stored as soon as the old system vouched for it, as Kratos's migratePasswordHash, before the flow's own checks.
            await store.UpdateCredentialConfigAsync(credential!.Id, new JsonObject { ["hashed_password"] = await hashing.RunAsync(() => hasher.Hash(password), ct) }.ToJsonString(), flows.Now(), ct);
            if (submission.Refusal(identity) is { } refusedMigrated)
            {
                ui.Messages.Add(refusedMigrated);
                return null;
            }
            return identity;
        }
        // An unknown identifier costs one hash comparison too, so the answer's timing does not reveal whether the account exists.
        bool ok;
        if (hash is not null) ok = await hashing.RunAsync(() => hasher.Verify(password, hash), ct);
        else
        {
            _ = await hashing.RunAsync(() => hasher.Verify(password, timing.DummyHash), ct);
            ok = false;
        }
        if (ok) await attempt.SucceededAsync(ct);
        if (!ok || identity is null)
        {
            ui.Messages.Add(Messages.InvalidCredentials());
            return null;
        }
        if (submission.Refusal(identity) is { } refused)
        {
            ui.Messages.Add(refused);
            return null;
        }
        // An imported or weaker hash is replaced by one from the configured hasher once the password is known to be right.
        if (hasher.NeedsRehash(hash!)) await store.UpdateCredentialConfigAsync(credential!.Id, WithHash(credential.Config, await hashing.RunAsync(() => hasher.Hash(password), ct)), flows.Now(), ct);
        return identity;
    }

    private static string WithHash(string config, string hash)
    {
        var o = JsonNode.Parse(config) as JsonObject ?? [];
        o["hashed_password"] = hash;
        return o.ToJsonString(new System.Text.Json.JsonSerializerOptions());
    }
}

/// <summary>Holds a hash of a random password made with the configured hasher, compared against for unknown identifiers.</summary>
public sealed class LoginTiming(Hashing.PasswordHasher hasher)
{
    private readonly Lazy<string> _dummy = new(() => hasher.Hash(Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(18))));

    public string DummyHash => _dummy.Value;
}
