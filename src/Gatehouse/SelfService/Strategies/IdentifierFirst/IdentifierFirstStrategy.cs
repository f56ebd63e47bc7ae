using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.IdentifierFirst;

/// <summary>
/// The identifier-first login (<c>selfservice.flows.login.style: identifier_first</c>; Kratos's <c>idfirst</c> strategy):
/// a first-factor login flow first asks for the identifier only (<c>method: identifier_first</c>), then shows the methods
/// of the identity it names — or, with <c>security.account_enumeration.mitigate</c>, the same methods for any identifier.
/// It proves nothing itself: its submit answers 400 with the second screen (HTML browsers: 303 to the login UI), and the
/// user then signs in with one of the methods shown.
/// </summary>
public sealed class IdentifierFirstStrategy(IPrivilegedIdentityStore store, GatehouseOptions options) : ILoginStrategy, IStrategyDescriptor
{
    public const string MethodName = "identifier_first";
    public const string Group = "identifier_first";

    public string Name => MethodName;

    public static string ConfigName => MethodName;

    /// <summary>On only when the login style asks for it (it has no <c>selfservice.methods</c> key of its own).</summary>
    public static bool IsEnabled(GatehouseOptions options) => IsStyle(options);

    /// <summary>Whether <c>selfservice.flows.login.style</c> is <c>identifier_first</c>.</summary>
    public static bool IsStyle(GatehouseOptions options) => options.Selfservice.Flows.Login.Style == "identifier_first";

    public string Aal => AssuranceLevels.Aal1;

    /// <summary>A unified form (a refresh, a form made for account linking) has no identifier-first nodes.</summary>
    public Task PopulateAsync(LoginForm form, CancellationToken ct) => Task.CompletedTask;

    public Task PopulateIdentifierFirstIdentificationAsync(LoginForm form, CancellationToken ct)
    {
        var ui = form.Ui;
        // One identifier node whichever method asked for one (Kratos's SetNode replaces by name), right after the CSRF token.
        ui.Nodes.RemoveAll(n => n["attributes"]?["name"]?.GetValue<string>() == "identifier");
        var at = ui.Nodes.FindIndex(n => n["attributes"]?["name"]?.GetValue<string>() == "csrf_token") + 1;
        ui.Nodes.Insert(at, UiNodes.Input("identifier", "text", Group, "", required: true, autocomplete: "username webauthn", label: Messages.LabelId()));
        ui.Nodes.Insert(at + 1, UiNodes.Submit("method", Name, Group, Messages.LabelContinue()));
        return Task.CompletedTask;
    }

    public async Task<Identity?> AuthenticateAsync(LoginSubmission submission, CancellationToken ct)
    {
        var (flow, ui, body) = (submission.Flow, submission.Ui, submission.Body);
        var identifier = (FormBody.String(body, "identifier") ?? "").Trim();
        ui.SetValue("identifier", identifier);
        if (identifier.Length == 0)
        {
            // Kratos's schema for this method requires the identifier: the first screen comes back with the message on it.
            ui.AddMessage("identifier", Messages.Required("identifier"));
            return null;
        }

        var mitigate = options.Security.AccountEnumeration.Mitigate;
        // With mitigation the credentials are not read at all (Kratos looks the identity up without them), so every
        // identifier gets the same screen from the same work.
        var identity = mitigate ? null : await store.FindByAnyIdentifierAsync(identifier, Schemas.IdentifierNormalizer.Graceful(identifier), ct);
        var hint = new IdentifierFirstHint(identifier, identity, mitigate);

        // The second screen is built afresh from the first (a repeated submit does not stack nodes).
        var screen = new UiContainer { Action = ui.Action, Method = ui.Method };
        if (ui.Find("csrf_token") is { } csrf) screen.Nodes.Add(csrf.DeepClone().AsObject());
        var form = new LoginForm { Flow = flow, Ui = screen, Current = submission.Current };
        foreach (var method in submission.Methods) await method.PopulateIdentifierFirstIdentificationAsync(form, ct);
        screen.SetValue("identifier", identifier);
        var found = false;
        foreach (var method in submission.Methods)
            found |= await method.PopulateIdentifierFirstCredentialsAsync(form, hint, ct);

        if (found && hint.Identity is not null)
        {
            foreach (var method in submission.Methods)
            {
                if (!await method.FastFirstFactorLoginAsync(submission, hint, screen, ct)) continue;
                Replace(ui, screen);
                return null;
            }
        }

        if (!found && !mitigate)
        {
            // Kratos's NewAccountNotFoundError: the first screen again, the message on the identifier.
            Replace(ui, screen);
            ui.AddMessage("identifier", Messages.AccountNotFound());
            return null;
        }

        // The identifier is known now: it stays in the form, hidden, and the continue button goes.
        screen.Nodes.RemoveAll(n => n["group"]?.GetValue<string>() == Group && n["attributes"]?["name"]?.GetValue<string>() == "method");
        if (screen.Find("identifier")?["attributes"] is JsonObject attributes)
        {
            attributes["type"] = "hidden";
            attributes["autocomplete"] = "username webauthn";
        }
        Replace(ui, screen);
        return null;
    }

    private static void Replace(UiContainer ui, UiContainer screen)
    {
        ui.Nodes.Clear();
        ui.Nodes.AddRange(screen.Nodes);
        ui.Messages.Clear();
        ui.Messages.AddRange(screen.Messages);
    }
}
