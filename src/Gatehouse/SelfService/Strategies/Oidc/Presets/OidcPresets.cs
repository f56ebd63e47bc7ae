using System.Collections.Frozen;
using Gatehouse.Config;

namespace Gatehouse.SelfService.Strategies.Oidc.Presets;

/// <summary>The <c>provider</c> values Gatehouse serves, keyed by their config name (Kratos's <c>supportedProviders</c>).</summary>
public static class OidcPresets
{
    private static readonly FrozenDictionary<string, OidcPreset> All = new OidcPreset[]
    {
        new GenericPreset(),
        new GooglePreset(),
        new ApplePreset(),
        new GitHubPreset(),
        new GitLabPreset(),
        new MicrosoftPreset(),
        new DiscordPreset(),
        new SlackPreset(),
        new FacebookPreset(),
        new Auth0Preset(),
        new SpotifyPreset(),
        new PatreonPreset(),
        new YandexPreset(),
        new AmazonPreset(),
        new LinkedInPreset(),
        new NetIdPreset(),
        new SalesforcePreset(),
        new LinePreset(),
        new VkPreset(),
        new LarkPreset(),
        new UaePassPreset(),
        new GitHubAppPreset(),
        new DingTalkPreset(),
        new JacksonPreset(),
        new XPreset(),
    }.ToFrozenDictionary(p => p.Name, StringComparer.Ordinal);

    /// <summary>The config names, in a stable order (for messages and the schema test).</summary>
    public static IReadOnlyList<string> Names { get; } = [.. All.Keys.Order(StringComparer.Ordinal)];

    /// <summary>The preset of a configured provider (the config was checked at start-up, so it exists).</summary>
    public static OidcPreset Of(OidcProviderOptions provider) =>
        All.TryGetValue(provider.Provider, out var preset) ? preset : throw new InvalidOperationException($"Unknown oidc provider preset \"{provider.Provider}\".");

    /// <summary>Whether <paramref name="name"/> is a preset Gatehouse serves.</summary>
    public static bool TryGet(string name, out OidcPreset preset) => All.TryGetValue(name, out preset!);

    /// <summary>
    /// Where a provider button may send the browser (the built-in pages' CSP <c>form-action</c>): <c>issuer_url</c>,
    /// <c>auth_url</c>, and a preset's own authorization endpoint.
    /// </summary>
    public static IEnumerable<string?> BrowserDestinations(OidcProviderOptions provider)
    {
        yield return provider.IssuerUrl;
        yield return provider.AuthUrl;
        if (TryGet(provider.Provider, out var preset) && !preset.UsesDiscovery) yield return preset.KnownEndpoints(provider).AuthorizationEndpoint;
    }

    /// <summary>Start-up check of one provider entry: a known preset, with the keys it needs (defaults filled in).</summary>
    public static void Check(OidcProviderOptions provider, string at)
    {
        if (!TryGet(provider.Provider, out var preset))
            throw new ConfigException($"{at}.provider: \"{provider.Provider}\" is not a provider Gatehouse supports; use one of {string.Join(", ", Names)}");
        preset.Check(provider, at);
        if (!string.IsNullOrEmpty(provider.FedcmConfigUrl) && !preset.SupportsFedcm)
            throw new ConfigException($"{at}.fedcm_config_url: FedCM is not supported for a {preset.Name} provider; only google and netid providers take it (remove the key)");
    }
}
