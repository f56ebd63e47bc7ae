using Gatehouse.Config;
using Gatehouse.Http;

namespace Gatehouse.OAuth2;

/// <summary>
/// The provider's settings. Until Hydra's configuration keys are merged in (<c>urls.self.issuer</c>, <c>ttl.*</c>), the
/// issuer is the public base URL and the lifespans are Hydra's defaults; clients override lifespans per grant.
/// </summary>
public sealed class OAuth2Settings(string issuer)
{
    /// <summary>Hydra writes the issuer with exactly one trailing slash (introspection's <c>iss</c>).</summary>
    public string Issuer { get; } = issuer.TrimEnd('/') + "/";

    /// <summary>Hydra's <c>ttl.access_token</c> default.</summary>
    public TimeSpan AccessTokenLifespan { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Hydra's <c>ttl.refresh_token</c> default.</summary>
    public TimeSpan RefreshTokenLifespan { get; init; } = TimeSpan.FromHours(720);

    public static OAuth2Settings From(GatehouseOptions options) => new(ReturnUrlPolicy.PublicBaseUrl(options));
}
