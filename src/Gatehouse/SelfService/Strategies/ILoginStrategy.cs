using System.Text.Json.Nodes;
using Gatehouse.Identities;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Ui;
using Gatehouse.Sessions;

namespace Gatehouse.SelfService.Strategies;

/// <summary>A method one signs in with (Kratos's <c>login.Strategy</c>).</summary>
public interface ILoginStrategy : IStrategy
{
    /// <summary>
    /// The assurance level a login with this method reaches (Kratos's <c>CompletedAuthenticationMethod</c>): <c>aal1</c> for a
    /// first factor, <c>aal2</c> for a second. A login flow offers the methods of the level it was asked for.
    /// </summary>
    string Aal { get; }

    /// <summary>
    /// Whether this method handles a submit that names no method of its own: a form sent by a script (<c>form.submit()</c>
    /// carries no button value) is recognised by the field the method's script fills (Kratos asks each strategy in turn).
    /// </summary>
    bool Handles(string? method, JsonObject body) => method == Name;

    /// <summary>Adds this method's nodes to a new login flow's form (for a refresh: the signed-in identity's).</summary>
    Task PopulateAsync(LoginForm form, CancellationToken ct);

    /// <summary>
    /// Kratos's <c>FastLoginStrategy</c>: after the form is built, a method may start its challenge at once (the code
    /// method sends the code when it is the only way to the second factor) and change the flow's state and form; true
    /// when it did (no other method is asked).
    /// </summary>
    Task<bool> FastLoginAsync(LoginForm form, CancellationToken ct) => Task.FromResult(false);

    /// <summary>
    /// Handles a submit whose <c>method</c> is this method's name: the identity it proves, or null after putting the
    /// reason on <see cref="LoginSubmission.Ui"/> (the flow answers 400 with the form).
    /// </summary>
    Task<Identity?> AuthenticateAsync(LoginSubmission submission, CancellationToken ct);

    /// <summary>
    /// The answer for a submit this method already knows it refuses without reading anything (e.g. a throttled identifier
    /// during a brute-force flood), or null. Asked before the flow is read, so it must not touch the database.
    /// </summary>
    Http.Errors.GatehouseError? RefusedBeforeFlow(HttpContext http, JsonObject body) => null;

    /// <summary>
    /// The identifier-first login's first screen (<c>selfservice.flows.login.style: identifier_first</c>; Kratos's
    /// <c>PopulateLoginMethodIdentifierFirstIdentification</c>): what this method shows before the identifier is known
    /// (social sign-in buttons, the passkey button). Used instead of <see cref="PopulateAsync"/> for first-factor flows.
    /// </summary>
    Task PopulateIdentifierFirstIdentificationAsync(LoginForm form, CancellationToken ct) => Task.CompletedTask;

    /// <summary>
    /// The identifier-first login's second screen (Kratos's <c>PopulateLoginMethodIdentifierFirstCredentials</c>): this
    /// method's nodes for the identity the identifier names. True when the identity has credentials of this method (it
    /// then adds its nodes); false when it has none (Kratos's <c>ErrNoCredentialsFound</c>) — a method then still adds its
    /// nodes when <see cref="IdentifierFirstHint.MitigateEnumeration"/> asks every identifier to look the same.
    /// </summary>
    Task<bool> PopulateIdentifierFirstCredentialsAsync(LoginForm form, IdentifierFirstHint hint, CancellationToken ct) => Task.FromResult(false);

    /// <summary>
    /// Kratos's <c>FastLogin1FA</c>: once the identifier-first login's second screen is built for an identity, a method
    /// that is that identity's only way in may start its challenge at once (the passwordless code method sends the code)
    /// and turn <paramref name="screen"/> into its next step; true when it did.
    /// </summary>
    Task<bool> FastFirstFactorLoginAsync(LoginSubmission submission, IdentifierFirstHint hint, UiContainer screen, CancellationToken ct) => Task.FromResult(false);
}

/// <summary>
/// What the identifier-first login knows after the first screen: the identifier as typed and the identity it names
/// (null when none does; with <c>security.account_enumeration.mitigate</c> it is never given, as Kratos then looks the
/// identity up without its credentials).
/// </summary>
public sealed record IdentifierFirstHint(string Identifier, Identity? Identity, bool MitigateEnumeration);

/// <summary>A login form being built.</summary>
public sealed class LoginForm
{
    public required SelfServiceFlow Flow { get; init; }
    public required UiContainer Ui { get; init; }

    /// <summary>For a refresh (re-authentication): the session being refreshed; its identity is the one to sign in again.</summary>
    public Session? Refreshing { get; init; }

    /// <summary>The session the request came with, if any (an <c>aal=aal2</c> flow: the session whose identity proves a second factor).</summary>
    public Session? Current { get; init; }

    /// <summary>An <c>aal=aal2</c> flow's <c>?via=</c>: the trait whose value picks the code method's address.</summary>
    public string? Via { get; init; }
}

/// <summary>A submitted login form.</summary>
public sealed class LoginSubmission
{
    public required HttpContext Http { get; init; }
    public required SelfServiceFlow Flow { get; init; }
    public required UiContainer Ui { get; init; }
    public required JsonObject Body { get; init; }

    /// <summary>
    /// The flow's own rules for an identity the method proved (the one being refreshed; an active one): the UI message
    /// why it is refused, or null. Called by the method before it changes anything for the identity.
    /// </summary>
    public required Func<Identity, JsonObject?> Refusal { get; init; }

    /// <summary>The session the request came with, if any (a second factor is proved for its identity).</summary>
    public Session? Current { get; init; }

    /// <summary>
    /// Set by a method that proves the identity elsewhere (social sign-in): the flow is saved and the browser sent there
    /// (HTML browsers 303; SPAs and API clients 422 <c>browser_location_change_required</c>) instead of answering with the form.
    /// </summary>
    public string? RedirectBrowserTo { get; set; }

    /// <summary>The enabled login methods of the flow, in form order (the identifier-first method asks each for its nodes).</summary>
    public IReadOnlyList<ILoginStrategy> Methods { get; init; } = [];

    /// <summary>Set by a method that wrote the answer itself (native social sign-in, which may turn into a registration).</summary>
    public bool Answered { get; set; }
}
