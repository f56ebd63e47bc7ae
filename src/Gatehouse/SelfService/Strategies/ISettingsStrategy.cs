using System.Text.Json.Nodes;
using Gatehouse.Identities;
using Gatehouse.Schemas;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Hooks;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;

namespace Gatehouse.SelfService.Strategies;

/// <summary>A method whose credentials (or, for <c>profile</c>, traits) a signed-in user changes in settings (Kratos's <c>settings.Strategy</c>).</summary>
public interface ISettingsStrategy : IStrategy
{
    /// <summary>
    /// Whether this method handles a submit that names no method of its own (a script's <c>form.submit()</c>, or a named
    /// submit button such as <c>passkey_remove</c>), recognised by the method's own fields as Kratos's strategies do.
    /// </summary>
    bool Handles(string? method, JsonObject body) => method == Name;

    /// <summary>
    /// Whether this method's submit body has a <c>csrf_token</c> in Kratos's API. Kratos's
    /// <c>updateSettingsFlowWithOidcMethod</c> has none, so an SDK drops the token from a link or unlink
    /// (<c>@ory/client-fetch</c>'s <c>UpdateSettingsFlowBodyToJSON</c>, and Ory Elements with it); such a method's JSON
    /// submit is then checked by <see cref="Csrf.CsrfTokens.VerifyJsonSubmit"/> instead.
    /// </summary>
    bool SubmitCarriesCsrfToken => true;

    /// <summary>Adds this method's group of nodes to the settings form.</summary>
    void Populate(SettingsForm form);

    /// <summary>Handles a submit whose <c>method</c> is this method's name, answering through the submission's callbacks.</summary>
    Task UpdateAsync(SettingsSubmission submission, CancellationToken ct);

    /// <summary>
    /// Puts what the flow does not store into a fetched flow's JSON, for this request only (the recovery codes a browser
    /// was just given, from its own cookie). Nothing by default.
    /// </summary>
    void RevealOnFetch(HttpContext http, SelfServiceFlow flow, JsonObject flowJson)
    {
    }
}

/// <summary>The settings hooks around a method's credential change, as every settings method runs them.</summary>
public static class SettingsChange
{
    /// <summary>Runs the pre-persist hooks, the change, the post-persist hooks, then answers with success.</summary>
    public static async Task SaveAsync(SettingsSubmission submission, string method, HookRunner hooks, Func<Task<Identity>> change, CancellationToken ct)
    {
        var hookContext = new HookContext
        {
            Http = submission.Http, Flow = submission.Flow, FlowKind = FlowKinds.Settings, Method = method, Identity = submission.Identity,
            IdentityPersisted = true, Session = submission.Session,
        };
        if (!await submission.RunPrePersistHooksAsync(hookContext, ct)) return;
        hookContext.Identity = await change();
        await hooks.RunAfterAsync(HookPhase.PostPersist, hookContext, ct);
        submission.ContinueWith.AddRange(hookContext.ContinueWith);
        await submission.SucceedAsync(hookContext.Identity, null, ct);
    }
}

/// <summary>A settings form being built for the signed-in identity.</summary>
public sealed class SettingsForm
{
    public required SelfServiceFlow Flow { get; init; }
    public required UiContainer Ui { get; init; }
    public required Identity Identity { get; init; }
    public required IdentitySchema Schema { get; init; }
}

/// <summary>A submitted settings form, with the flow's ways to answer.</summary>
public sealed class SettingsSubmission
{
    public required HttpContext Http { get; init; }
    public required SelfServiceFlow Flow { get; init; }
    public required Session Session { get; init; }
    public required Identity Identity { get; init; }
    public required IdentitySchema Schema { get; init; }

    /// <summary>The form as it is shown (every method's nodes), to put values and messages on.</summary>
    public required UiContainer Ui { get; init; }
    public required JsonObject Body { get; init; }

    /// <summary>Answers with the flow and <see cref="Ui"/> (e.g. 400 with the errors on it).</summary>
    public required Func<int, CancellationToken, Task> RespondAsync { get; init; }

    /// <summary>
    /// Applied to the flow's JSON in this submit's answer only, after the flow is stored (the freshly generated recovery
    /// codes: the stored flow holds their hashes, the answer the codes).
    /// </summary>
    public Action<JsonObject>? ResponseOnly { get; set; }

    /// <summary>
    /// Whether the session signed in recently enough to change credentials (<c>privileged_session_max_age</c>). When it
    /// did not, a browser flow's submit (<see cref="Body"/>) is paused for this method, the flow has answered (a refresh
    /// login that comes back to resume it) and the method stops.
    /// </summary>
    public required Func<CancellationToken, Task<bool>> EnsurePrivilegedAsync { get; init; }

    /// <summary>
    /// Runs the settings pre-persist hooks on the context. When one stops the change (<see cref="FlowHookInterrupt"/>),
    /// its messages are on <see cref="Ui"/>, the flow has answered 400 and this returns false: the method stops.
    /// </summary>
    public required Func<HookContext, CancellationToken, Task<bool>> RunPrePersistHooksAsync { get; init; }

    /// <summary>
    /// After the traits changed (before, after): the settings hooks run (mail to a new address), recording on the hook
    /// context the verification flow one of them started, if any.
    /// </summary>
    public required Func<Identity, Identity, HookContext, CancellationToken, Task> AfterTraitsChangedAsync { get; init; }

    /// <summary>The <c>continue_with</c> items of this submit's success answer (the post-persist hooks' items).</summary>
    public List<JsonObject> ContinueWith { get; } = [];

    /// <summary>The change is saved: the flow answers with success (HTML browsers to <c>redirectBrowserTo</c> when given).</summary>
    public required Func<Identity, string?, CancellationToken, Task> SucceedAsync { get; init; }
}
