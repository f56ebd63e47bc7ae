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
    /// <summary>Adds this method's group of nodes to the settings form.</summary>
    void Populate(SettingsForm form);

    /// <summary>Handles a submit whose <c>method</c> is this method's name, answering through the submission's callbacks.</summary>
    Task UpdateAsync(SettingsSubmission submission, CancellationToken ct);
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
    /// Whether the session signed in recently enough to change credentials (<c>privileged_session_max_age</c>). When it
    /// did not, the flow has answered (a refresh login) and the method stops.
    /// </summary>
    public required Func<bool> EnsurePrivileged { get; init; }

    /// <summary>
    /// Runs the settings pre-persist hooks on the context. When one stops the change (<see cref="FlowHookInterrupt"/>),
    /// its messages are on <see cref="Ui"/>, the flow has answered 400 and this returns false: the method stops.
    /// </summary>
    public required Func<HookContext, CancellationToken, Task<bool>> RunPrePersistHooksAsync { get; init; }

    /// <summary>
    /// After the traits changed (before, after): the settings hooks run (mail to a new address); returns the UI URL of a
    /// verification flow one of them started, if any.
    /// </summary>
    public required Func<Identity, Identity, CancellationToken, Task<string?>> AfterTraitsChangedAsync { get; init; }

    /// <summary>The change is saved: the flow answers with success (HTML browsers to <c>redirectBrowserTo</c> when given).</summary>
    public required Func<Identity, string?, CancellationToken, Task> SucceedAsync { get; init; }
}
