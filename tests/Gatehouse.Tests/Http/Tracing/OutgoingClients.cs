using Gatehouse.Http.Outbound;
using Gatehouse.Http.Tracing;

namespace Gatehouse.Tests.Http.Tracing;

/// <summary>The server's named outgoing HTTP clients, and whether a client's handler chain traces its requests.</summary>
public static class OutgoingClients
{
    /// <summary>Every <see cref="IHttpClientFactory"/> client the server makes calls with.</summary>
    public static readonly string[] Names =
    [
        WebHookSender.ClientName,
        WebHookSender.TemplateClientName,
        Gatehouse.SelfService.Strategies.Oidc.OidcMetadataCache.HttpClientName,
        Gatehouse.SelfService.Flows.Login.HydraAdminLoginProvider.ClientName,
        Gatehouse.Sessions.Tokenizer.SessionTokenizer.MapperClientName,
        Gatehouse.OAuth2.Protocol.TokenHook.ClientName,
        Gatehouse.OAuth2.Protocol.ClientJwksFetcher.ClientName,
        Gatehouse.OAuth2.Clients.SectorIdentifierValidator.ClientName,
        Gatehouse.OAuth2.Logout.BackChannelLogout.ClientName,
        Gatehouse.OAuth2.Logout.KratosAdminIdentityProviderSessions.ClientName,
        "hibp",
    ];

    /// <summary>Whether the handler chain the factory builds for <paramref name="name"/> holds the tracing handler.</summary>
    public static bool Traced(IServiceProvider services, string name)
    {
        HttpMessageHandler? handler = services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(name);
        for (; handler is DelegatingHandler delegating; handler = delegating.InnerHandler)
        {
            if (handler is OutgoingRequestTracing) return true;
        }
        return false;
    }
}
