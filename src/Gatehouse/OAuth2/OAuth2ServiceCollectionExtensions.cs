using Gatehouse.Http.Outbound;
using Gatehouse.Config;
using Gatehouse.OAuth2.Clients;
using Gatehouse.OAuth2.Consent;
using Gatehouse.OAuth2.Discovery;
using Gatehouse.OAuth2.Flows;
using Gatehouse.OAuth2.Keys;
using Gatehouse.OAuth2.Logout;
using Gatehouse.OAuth2.Protocol;
using Gatehouse.OAuth2.Tokens;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.OAuth2;

public static class OAuth2ServiceCollectionExtensions
{
    /// <summary>Hydra's OAuth2 / OpenID Connect provider: clients, protocol and admin services.</summary>
    public static IServiceCollection AddOAuth2(this IServiceCollection services)
    {
        services.TryAddSingleton(sp => ClientSecretHasher.From(sp.GetRequiredService<GatehouseOptions>()));
        services.TryAddScoped<OAuth2ClientService>();
        services.TryAddSingleton(sp => OAuth2Settings.From(sp.GetRequiredService<GatehouseOptions>()));
        services.TryAddScoped<ClientAuthenticator>();
        services.AddJwtClientAuthentication();
        services.TryAddScoped<OAuth2TokenService>();
        services.TryAddSingleton<OAuth2TokenIntrospector>();
        services.TryAddSingleton<JsonWebKeyCipher>();
        services.TryAddSingleton<SystemSecretCipher>();
        services.TryAddSingleton<OAuth2SessionData>();
        services.TryAddSingleton<KeyGeneration>();
        services.TryAddSingleton<SigningKeyMemo>();
        services.TryAddScoped<JsonWebKeyManager>();
        services.TryAddSingleton<FlowVerifiers>();
        services.TryAddScoped<LoginConsentService>();
        services.TryAddScoped<IdTokens>();
        services.TryAddScoped<IdTokenHints>();
        services.TryAddScoped<AuthorizationCodeGrant>();
        services.TryAddScoped<FlowTokenIssuer>();
        services.TryAddScoped<RefreshTokenGrant>();
        services.TryAddScoped<TokenHook>();
        // Hydra's token hook client (RegistrySQL.HTTPClient): time-outs, retries and redirects are TokenHook's (each hop through
        // this client, so through the private-network guard); no logging handler, so the API key header never reaches a trace log.
        services.AddHttpClient(TokenHook.ClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => PrivateNetworkGuard.Handler(sp.GetRequiredService<GatehouseOptions>(), () => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) }))
            .RemoveAllLoggers();
        services.TryAddSingleton<Gatehouse.Jsonnet.JsonnetEngine>();
        services.TryAddScoped<ClaimsMapper>();
        services.TryAddScoped<BuiltInConsent>();
        services.TryAddScoped<OAuth2SessionsAdmin>();
        services.TryAddScoped<LogoutService>();
        // urls.identity_provider.url: the external Kratos's admin API (Hydra's kratos.Default); unset, Gatehouse's own sessions.
        // Hydra's client follows redirects; the guard checks every connection; no logging handler (the headers may hold a key).
        services.TryAddSingleton<KratosAdminIdentityProviderSessions>();
        services.TryAddScoped<InProcessIdentityProviderSessions>();
        services.TryAddScoped<IIdentityProviderSessions>(sp => sp.GetRequiredService<GatehouseOptions>().Urls.IdentityProvider.Url is { Length: > 0 }
            ? sp.GetRequiredService<KratosAdminIdentityProviderSessions>()
            : sp.GetRequiredService<InProcessIdentityProviderSessions>());
        services.AddHttpClient(KratosAdminIdentityProviderSessions.ClientName, c => c.Timeout = System.Threading.Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => PrivateNetworkGuard.Handler(sp.GetRequiredService<GatehouseOptions>(), () => new SocketsHttpHandler { AllowAutoRedirect = true, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) }))
            .RemoveAllLoggers();
        services.TryAddScoped<Device.DeviceFlowService>();
        services.TryAddScoped<Credentials.VerifiableCredentialService>();
        services.TryAddSingleton<SectorIdentifierValidator>();
        // Sector identifier documents: fetched under clients.http.disallow_private_ip_ranges, redirects not followed.
        services.AddHttpClient(SectorIdentifierValidator.ClientName, c => c.Timeout = SectorIdentifierValidator.Timeout)
            .ConfigurePrimaryHttpMessageHandler(sp => PrivateNetworkGuard.Handler(sp.GetRequiredService<GatehouseOptions>(), () => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) }))
            .RemoveAllLoggers();
        services.TryAddSingleton<BackChannelLogout>();
        // Logout tokens go only to the registered URL: redirects are not followed (Hydra's client does not either).
        services.AddHttpClient(BackChannelLogout.ClientName, c => c.Timeout = BackChannelLogout.Timeout)
            .ConfigurePrimaryHttpMessageHandler(sp => PrivateNetworkGuard.Handler(sp.GetRequiredService<GatehouseOptions>(), () => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) }))
            .RemoveAllLoggers();
        return services;
    }

    /// <summary><c>private_key_jwt</c> (the assertion check, the fetcher of clients' <c>jwks_uri</c>) and the JWT-bearer grant with its trusted issuers (issue 14).</summary>
    private static IServiceCollection AddJwtClientAuthentication(this IServiceCollection services)
    {
        services.TryAddScoped<ClientAssertionAuthenticator>();
        services.TryAddScoped<Trust.TrustedJwtIssuerService>();
        services.TryAddScoped<Trust.JwtBearerGrant>();
        services.TryAddSingleton<ClientJwksFetcher>();
        services.AddHttpClient(ClientJwksFetcher.ClientName, c => c.Timeout = ClientJwksFetcher.Timeout)
            .ConfigurePrimaryHttpMessageHandler(sp => PrivateNetworkGuard.Handler(sp.GetRequiredService<GatehouseOptions>(), () => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) }))
            .RemoveAllLoggers();
        return services;
    }

    /// <summary>Hydra's admin API, under <c>/admin</c> (admin listener, or public listener with an API key).</summary>
    public static RouteGroupBuilder MapOAuth2Admin(this RouteGroupBuilder admin)
    {
        var group = admin.MapGroup("").AddEndpointFilter(OAuth2ErrorFilter.InvokeAsync).WithMetadata(OAuth2ErrorFilter.Routes.Instance);
        group.MapOAuth2ClientsAdmin();
        group.MapOAuth2TokensAdmin();
        group.MapJwkAdmin();
        group.MapLoginConsentAdmin();
        group.MapOAuth2SessionsAdmin();
        group.MapLogoutAdmin();
        Trust.TrustEndpoints.MapTrustAdmin(group);
        Device.DeviceEndpoints.MapDeviceAdmin(group);
        return admin;
    }

    /// <summary>The OAuth2 protocol endpoints on the public listener.</summary>
    public static RouteGroupBuilder MapOAuth2Public(this RouteGroupBuilder root)
    {
        var group = root.MapGroup("").AddEndpointFilter(OAuth2ErrorFilter.InvokeAsync).WithMetadata(OAuth2ErrorFilter.Routes.Instance);
        group.MapOAuth2TokenEndpoints();
        group.MapJwkPublic();
        group.MapDiscovery();
        group.MapAuthorizeEndpoint();
        group.MapErrorFallback();
        group.MapUserinfo();
        Credentials.CredentialsEndpoint.MapCredentials(group);
        group.MapLogoutPublic();
        group.MapOidcDynamicClients();
        Device.DeviceEndpoints.MapDevicePublic(group);
        return root;
    }
}
