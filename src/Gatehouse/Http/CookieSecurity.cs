using Gatehouse.Config;

namespace Gatehouse.Http;

/// <summary>The one rule for the <c>Secure</c> flag of every cookie Gatehouse sets (session, CSRF).</summary>
public static class CookieSecurity
{
    /// <summary>
    /// <c>cookies.secure</c> when set, else Secure unless <c>--dev</c> — Kratos's rule ("If unset, defaults to !dev
    /// mode"), whatever the scheme of <c>serve.public.base_url</c>. Browsers accept Secure cookies from
    /// <c>http://localhost</c> and <c>http://127.0.0.1</c>; on any other plain-http host, run with <c>--dev</c> or set
    /// <c>cookies.secure: false</c>. (<c>session.cookie.secure</c> overrides this for the session cookie.)
    /// </summary>
    public static bool Secure(GatehouseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Cookies.Secure ?? !options.Dev;
    }
}
