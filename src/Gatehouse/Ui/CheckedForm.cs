using Gatehouse.SelfService.Csrf;

namespace Gatehouse.Ui;

/// <summary>
/// The start of every built-in page's form post that has no self-service flow behind it (consent, logout): the body
/// read within the form reader's limits — a malformed or oversized body is the sender's error, 400, never a 500 — and
/// the anti-CSRF token checked against the browser's cookie (403). Null when the request has been answered.
/// </summary>
internal static class CheckedForm
{
    public static async Task<IFormCollection?> ReadAsync(HttpContext http, CsrfTokens csrf, UiErrorPage errors, string what)
    {
        IFormCollection? form = null;
        try
        {
            if (http.Request.HasFormContentType) form = await http.Request.ReadFormAsync(http.RequestAborted);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException { StatusCode: < 500 } && !http.RequestAborted.IsCancellationRequested)
        {
            form = null;
        }
        if (form is null)
        {
            await errors.WriteAsync(http, 400, null, $"The {what} form must be sent as a well-formed application/x-www-form-urlencoded body.", null);
            return null;
        }
        if (!csrf.Matches(http, form["csrf_token"].ToString()))
        {
            await errors.WriteAsync(http, 403, UiErrorPage.CsrfViolation, "The request body's csrf_token does not match the browser's anti-CSRF cookie.", null);
            return null;
        }
        return form;
    }
}
