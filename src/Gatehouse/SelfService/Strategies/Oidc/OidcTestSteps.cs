namespace Gatehouse.SelfService.Strategies.Oidc;

/// <summary>
/// The steps of a social sign-in callback and the reasons a test flow's <c>debug_payload.error</c> names when one fails
/// (Kratos's <c>oidcerr</c> and <c>processTestLogin</c>; the names are Kratos's, since admin tooling matches on them).
/// </summary>
public static class OidcTestSteps
{
    public const string StateValidate = "state_validate";
    public const string ProviderDenied = "provider_denied";
    public const string TokenExchange = "token_exchange";
    public const string IdTokenVerify = "id_token_verify";
    public const string ClaimsDecode = "claims_decode";
    public const string Callback = "callback";
    public const string JsonnetRun = "jsonnet_run";
    public const string SchemaValidate = "schema_validate";

    /// <summary>The mapper could not be loaded or failed while it ran.</summary>
    public const string EvaluationFailed = "evaluation_failed";

    /// <summary>The mapper returned something other than a JSON object.</summary>
    public const string InvalidOutput = "invalid_output";

    /// <summary>The mapper's <c>identity.traits</c> is no object.</summary>
    public const string InvalidTraits = "invalid_traits";

    /// <summary>The mapper's <c>identity.metadata_public</c> is there but no object.</summary>
    public const string InvalidMetadataPublic = "invalid_metadata_public";

    /// <summary>The mapper's <c>identity.metadata_admin</c> is there but no object.</summary>
    public const string InvalidMetadataAdmin = "invalid_metadata_admin";

    /// <summary>The mapped traits do not satisfy the identity schema.</summary>
    public const string TraitsInvalid = "traits_invalid";

    /// <summary>The reason a failed callback step is reported with (Kratos's <c>Step.Reason</c>); <c>callback_failed</c> for any other.</summary>
    public static string ReasonOf(string step) => step switch
    {
        StateValidate => "state_invalid",
        ProviderDenied => "access_denied",
        TokenExchange => "exchange_failed",
        IdTokenVerify => "verification_failed",
        ClaimsDecode => "claims_invalid",
        _ => "callback_failed",
    };
}
