using Gatehouse.Http.Errors;

namespace Gatehouse.SelfService.Errors;

/// <summary>
/// Kratos's <c>errorx.Manager.Forward</c> for browser requests: stores the error and answers 303 to
/// <c>selfservice.flows.error.ui_url?id=</c>. The log line names the error and the route, never the query string
/// (which may hold a logout token or a recovery code) nor the stored details.
/// </summary>
public sealed class SelfServiceErrorForwarder(ILogger<SelfServiceErrorForwarder> logger) : IErrorForwarder
{
    public async Task<bool> ForwardAsync(HttpContext http, GatehouseError error)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(error);
        // A scope of its own: the failed request's database context may hold unsaved changes or a broken transaction,
        // none of which may be saved along with the error.
        await using var scope = http.RequestServices.GetRequiredService<IServiceScopeFactory>().CreateAsyncScope();
        var errors = scope.ServiceProvider.GetRequiredService<SelfServiceErrors>();
        Guid id;
        try
        {
            id = await errors.CreateAsync(error, http.RequestAborted);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // As Kratos: when the error cannot be stored, it is answered directly.
            logger.LogError(e, "Unable to store the error of {Method} {Path} for the error UI; answering it directly", http.Request.Method, http.Request.Path);
            return false;
        }
        logger.LogInformation("Forwarding error {Code} {ErrorId} of {Method} {Path} to the error UI as {SelfServiceErrorId}",
            error.Code, error.ErrorId ?? "-", http.Request.Method, http.Request.Path, id);
        Flows.FlowService.Redirect(http, errors.UiUrlFor(id));
        return true;
    }
}
