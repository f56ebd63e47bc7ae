using System.Text.Json.Nodes;
using Gatehouse.Schemas;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Ui;

namespace Gatehouse.SelfService.Strategies;

/// <summary>A method one registers with (Kratos's <c>registration.Strategy</c>).</summary>
public interface IRegistrationStrategy : IStrategy
{
    /// <summary>Adds this method's nodes to a registration form (after the CSRF token and the trait nodes the flow put there).</summary>
    void Populate(RegistrationForm form);

    /// <summary>Whether this method handles the submit (by default: its name is the submitted <c>method</c>).</summary>
    bool Handles(string? method, JsonObject body) => method == Name;

    /// <summary>Handles a submit <see cref="Handles"/> accepted: what the flow does next.</summary>
    Task<RegistrationOutcome> RegisterAsync(RegistrationSubmission submission, CancellationToken ct);
}

/// <summary>The two steps of Kratos's <c>profile_first</c> style; <c>unified</c> has only the first.</summary>
public enum RegistrationStep
{
    /// <summary>The traits (and, in the unified style, the credentials).</summary>
    First,

    /// <summary>profile_first's second step: the accepted traits (hidden) and the credentials.</summary>
    Credentials,
}

/// <summary>A registration form being built.</summary>
public sealed class RegistrationForm
{
    public required SelfServiceFlow Flow { get; init; }
    public required UiContainer Ui { get; init; }
    public required IdentitySchema Schema { get; init; }
    public required RegistrationStep Step { get; init; }

    /// <summary>Whether the flow registers in two steps (<c>selfservice.flows.registration.style: profile_first</c>).</summary>
    public required bool ProfileFirst { get; init; }

    /// <summary>Where the trait nodes start in <see cref="UiContainer.Nodes"/> (after the CSRF token).</summary>
    public required int TraitsStart { get; init; }
}

/// <summary>A submitted registration form.</summary>
public sealed class RegistrationSubmission
{
    public required HttpContext Http { get; init; }
    public required SelfServiceFlow Flow { get; init; }
    public required IdentitySchema Schema { get; init; }
    public required JsonObject Body { get; init; }

    /// <summary>The flow's internal context (<c>schema_id</c>; in profile_first, the <c>traits</c> accepted in the first step).</summary>
    public required JsonObject Context { get; init; }

    /// <summary>The submitted <c>traits</c>, coerced to the schema's types.</summary>
    public required JsonNode? SubmittedTraits { get; init; }

    public required bool ProfileFirst { get; init; }

    /// <summary>The first step's form, filled with the given traits.</summary>
    public required Func<JsonNode?, UiContainer> FirstStep { get; init; }

    /// <summary>profile_first's credentials step for the given (accepted) traits.</summary>
    public required Func<JsonNode, UiContainer> CredentialStep { get; init; }

    /// <summary>
    /// The traits a credential method registers with (the submitted ones, as in Kratos), and the form to answer on (the
    /// first step's, or profile_first's credentials step after a profile step).
    /// </summary>
    public required Func<(JsonNode Traits, UiContainer Ui)> CredentialTraits { get; init; }

    /// <summary>
    /// <see cref="CredentialTraits"/> checked against the identity schema: the traits and what the schema derived from
    /// them, or null traits with the schema's errors on the form to answer with.
    /// </summary>
    public (JsonNode? Traits, UiContainer Ui, TraitsValidationResult Validation) ValidatedTraits()
    {
        var (traits, ui) = CredentialTraits();
        var validation = Schema.Validate(traits);
        if (validation.IsValid) return (traits, ui, validation);
        FlowService.AddTraitErrors(ui, validation.Errors);
        return (null, ui, validation);
    }
}

/// <summary>What a registration method decided.</summary>
public abstract record RegistrationOutcome
{
    private RegistrationOutcome() { }

    /// <summary>Answer with the flow and this form, with the status Kratos's method answers JSON clients (400 for errors and for most next steps) — nothing is created.</summary>
    public sealed record ShowForm(UiContainer Ui, int Status) : RegistrationOutcome
    {
        /// <summary>The flow names no active method after this form (Kratos's profile steps never set one and the credential selection clears it).</summary>
        public bool NoActiveMethod { get; init; }
    }

    /// <summary>
    /// Create the identity from these traits and credentials (the admin API's import shape), then run the hooks;
    /// <paramref name="VerifiedAddresses"/>: addresses the method proved the user receives (a code sent there), created verified.
    /// </summary>
    public sealed record CreateIdentity(UiContainer Ui, JsonNode Traits, JsonObject Credentials, IReadOnlyList<string>? VerifiedAddresses = null) : RegistrationOutcome
    {
        /// <summary>Applied to the built identity before the hooks run (what the import shape cannot carry, e.g. encrypted upstream tokens, metadata).</summary>
        public Action<Identities.Identity>? Complete { get; init; }

        /// <summary>The social sign-in provider the identity signed up with (recorded with the session's method).</summary>
        public string? Provider { get; init; }

        /// <summary>
        /// The session's method entry when the method says more than its name (social sign-in: the provider's <c>acr</c> and
        /// <c>amr</c>, and the level they give); the <c>session</c> hook records it.
        /// </summary>
        public Sessions.AuthenticationMethod? Proof { get; init; }

        /// <summary>
        /// When the identity collides with an existing one (an identifier or address taken): the method's own answer (social
        /// sign-in: Kratos's account linking login flow). True when it answered; false leaves the flow's default (4000007).
        /// </summary>
        public Func<Identities.Identity, CancellationToken, Task<bool>>? OnDuplicate { get; init; }
    }

    /// <summary>The method wrote the answer itself (native social sign-in, which may turn into a login).</summary>
    public sealed record Answered : RegistrationOutcome;

    /// <summary>Save the flow and send the browser to <paramref name="Url"/> (social sign-in: the upstream provider).</summary>
    public sealed record RedirectBrowser(UiContainer Ui, string Url) : RegistrationOutcome;
}
