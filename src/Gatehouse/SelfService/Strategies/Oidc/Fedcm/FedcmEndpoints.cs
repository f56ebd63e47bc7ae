using Gatehouse.Http.Errors;

namespace Gatehouse.SelfService.Strategies.Oidc.Fedcm;

/// <summary>The FedCM routes of the public API (<c>createFedcmFlow</c>, <c>updateFedcmFlow</c>).</summary>
public static class FedcmEndpoints
{
    public const string Parameters = "/self-service/fed-cm/parameters";
    public const string Token = "/self-service/fed-cm/token";

    /// <summary>
    /// The parameters answer JSON only; the token submit forwards a form-posting browser's errors to the error UI, as the
    /// login submit does (JSON clients get the error envelope).
    /// </summary>
    public static RouteGroupBuilder MapFedcmPublic(this RouteGroupBuilder root)
    {
        root.MapGet(Parameters, (HttpContext http, FedcmFlows fedcm) => fedcm.ParametersAsync(http));
        root.MapPost(Token, (HttpContext http, FedcmFlows fedcm) => fedcm.TokenAsync(http)).ForwardErrorsToUi();
        return root;
    }
}
