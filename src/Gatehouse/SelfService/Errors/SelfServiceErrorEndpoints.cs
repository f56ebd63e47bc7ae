namespace Gatehouse.SelfService.Errors;

/// <summary><c>GET /self-service/errors?id=</c> (Kratos's <c>getFlowError</c>): the error UI reads a forwarded error.</summary>
public static class SelfServiceErrorEndpoints
{
    public const string Errors = "/self-service/errors";

    public static RouteGroupBuilder MapSelfServiceErrors(this RouteGroupBuilder root)
    {
        root.MapGet(Errors, (HttpContext http, SelfServiceErrors errors) => errors.GetAsync(http));
        return root;
    }
}
