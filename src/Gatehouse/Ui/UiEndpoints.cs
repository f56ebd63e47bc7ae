using Gatehouse.Config;
using Gatehouse.Http;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Flows.Login;
using Gatehouse.SelfService.Flows.Recovery;
using Gatehouse.SelfService.Flows.Registration;
using Gatehouse.SelfService.Flows.Settings;
using Gatehouse.SelfService.Flows.Verification;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.Ui;

/// <summary>The built-in self-service pages under <c>/ui/</c> on the public listener (off with <c>ui.enabled: false</c>).</summary>
public static class UiEndpoints
{
    public const string Login = "/ui/login";
    public const string Registration = "/ui/registration";
    public const string Settings = "/ui/settings";
    public const string Verification = "/ui/verification";
    public const string Recovery = "/ui/recovery";
    public const string Welcome = "/ui/welcome";
    public const string Error = "/ui/error";

    /// <summary>The OAuth2 provider's built-in consent page (<see cref="ConsentPage"/>).</summary>
    public const string Consent = OAuth2.OAuth2Settings.BuiltInConsentPath;

    /// <summary>The OAuth2 provider's built-in logout page (<see cref="LogoutPage"/>).</summary>
    public const string Logout = OAuth2.OAuth2Settings.BuiltInLogoutPath;

    /// <summary>The OAuth2 provider's built-in user-code page of the device flow (<see cref="DevicePage"/>).</summary>
    public const string Device = OAuth2.OAuth2Settings.BuiltInDevicePath;

    /// <summary>The built-in page the device flow ends at (<see cref="DevicePage.DoneAsync"/>).</summary>
    public const string DeviceDone = OAuth2.OAuth2Settings.BuiltInDeviceDonePath;

    /// <summary>Only with <c>--dev</c>: the mail the courier queued (see <see cref="DevMailboxPages"/>).</summary>
    public const string DevMailbox = "/ui/dev/mailbox";

    /// <summary>The flow kinds that have a page here.</summary>
    public static readonly IReadOnlySet<string> FlowPageKinds = new HashSet<string>(
        [SelfService.Flows.FlowKinds.Login, SelfService.Flows.FlowKinds.Registration, SelfService.Flows.FlowKinds.Settings,
         SelfService.Flows.FlowKinds.Verification, SelfService.Flows.FlowKinds.Recovery]);

    public static IServiceCollection AddUi(this IServiceCollection services, GatehouseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Ui.Enabled) return services;
        services.TryAddSingleton<UiErrorPage>();
        services.TryAddScoped<UiPages>();
        services.TryAddScoped<ConsentPage>();
        services.TryAddScoped<LogoutPage>();
        services.TryAddScoped<DevicePage>();
        if (options.Dev) services.TryAddScoped<DevMailboxPages>();
        return services;
    }

    public static RouteGroupBuilder MapUi(this RouteGroupBuilder root, GatehouseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Ui.Enabled) return root;
        root.MapMethods(UiAssets.StylesheetRoute, [HttpMethods.Get, HttpMethods.Head], UiAssets.ServeStylesheet);
        root.MapMethods(UiAssets.WebAuthnScriptRoute, [HttpMethods.Get, HttpMethods.Head], UiAssets.ServeWebAuthnScript);
        root.MapGet(Login, (HttpContext http, UiPages pages, LoginFlows flows) => pages.FlowAsync(http, SelfService.Flows.FlowKinds.Login, id => flows.FetchAsync(http, id)));
        root.MapGet(Registration, (HttpContext http, UiPages pages, RegistrationFlows flows) => pages.FlowAsync(http, SelfService.Flows.FlowKinds.Registration, id => flows.FetchAsync(http, id)));
        root.MapGet(Settings, (HttpContext http, UiPages pages, SettingsFlows flows) => pages.FlowAsync(http, SelfService.Flows.FlowKinds.Settings, id => flows.FetchAsync(http, id)));
        root.MapGet(Verification, (HttpContext http, UiPages pages, VerificationFlows flows) => pages.FlowAsync(http, SelfService.Flows.FlowKinds.Verification, id => flows.FetchAsync(http, id)));
        root.MapGet(Recovery, (HttpContext http, UiPages pages, RecoveryFlows flows) => pages.FlowAsync(http, SelfService.Flows.FlowKinds.Recovery, id => flows.FetchAsync(http, id)));
        root.MapGet(Welcome, (HttpContext http, UiPages pages) => pages.WelcomeAsync(http));
        root.MapGet(Consent, (HttpContext http, ConsentPage page) => page.ShowAsync(http));
        root.MapPost(Consent, (HttpContext http, ConsentPage page) => page.SubmitAsync(http));
        root.MapGet(Logout, (HttpContext http, LogoutPage page) => page.ShowAsync(http));
        root.MapPost(Logout, (HttpContext http, LogoutPage page) => page.SubmitAsync(http));
        root.MapGet(Device, (HttpContext http, DevicePage page) => page.ShowAsync(http));
        root.MapPost(Device, (HttpContext http, DevicePage page) => page.SubmitAsync(http));
        root.MapGet(DeviceDone, (HttpContext http, DevicePage page) => page.DoneAsync(http));
        root.MapGet(Error, (HttpContext http, UiErrorPage page, SelfService.Errors.SelfServiceErrors errors) => page.ShowAsync(http, errors));
        // A newcomer opening the public base URL lands on the pages (Kratos has no page there: 404 without the UI).
        root.MapGet("/", (HttpContext http) => FlowService.Redirect(http, ReturnUrlPolicy.PublicBaseUrl(options).TrimEnd('/') + Welcome));
        if (options.Dev)
        {
            root.MapGet(DevMailbox, (HttpContext http, DevMailboxPages pages) => pages.ListAsync(http));
            root.MapGet(DevMailbox + "/{id}", (HttpContext http, string id, DevMailboxPages pages) => pages.MessageAsync(http, id));
        }
        return root;
    }
}
