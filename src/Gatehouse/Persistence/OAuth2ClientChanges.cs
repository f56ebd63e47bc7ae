using Gatehouse.OAuth2.Clients;

namespace Gatehouse.Persistence;

/// <summary>
/// Keeps <see cref="OAuth2ClientCache"/> current on PostgreSQL: the <c>OAuth2ClientCacheNotifications</c> migration's
/// trigger announces every update and delete of <c>oauth2_clients</c> on <see cref="ChannelName"/>, from any instance.
/// </summary>
public sealed class OAuth2ClientChanges(OAuth2ClientCache cache) : IChangeNotificationSubscriber
{
    public const string ChannelName = "gatehouse_oauth2_client_changes";

    public string Channel => ChannelName;

    public bool ListenForChanges => cache.ListenForChanges;

    public void Connected() => cache.ListenerConnected();

    public void Disconnected() => cache.ListenerDisconnected();

    // Client changes are rare: any change invalidates every cached client (the payload, the client id, is not needed).
    public void Notified(string payload) => cache.InvalidateAll();
}
