using Gatehouse.Http.Errors;
using Gatehouse.SelfService.Flows.Login;
using Gatehouse.SelfService.Flows.Registration;
using Gatehouse.SelfService.Flows.Recovery;
using Gatehouse.SelfService.Flows.Settings;
using Gatehouse.SelfService.Flows.Verification;

namespace Gatehouse.SelfService.Flows;

public static class SelfServiceEndpoints
{
    public const string LoginBrowser = "/self-service/login/browser";
    public const string LoginApi = "/self-service/login/api";
    public const string LoginFlows = "/self-service/login/flows";
    public const string Login = "/self-service/login";
    public const string LoginTest = "/self-service/login/test";
    public const string RegistrationBrowser = "/self-service/registration/browser";
    public const string RegistrationApi = "/self-service/registration/api";
    public const string RegistrationFlows = "/self-service/registration/flows";
    public const string Registration = "/self-service/registration";
    public const string SettingsBrowser = "/self-service/settings/browser";
    public const string SettingsApi = "/self-service/settings/api";
    public const string SettingsFlows = "/self-service/settings/flows";
    public const string Settings = "/self-service/settings";
    public const string VerificationBrowser = "/self-service/verification/browser";
    public const string VerificationApi = "/self-service/verification/api";
    public const string VerificationFlows = "/self-service/verification/flows";
    public const string Verification = "/self-service/verification";
    public const string RecoveryBrowser = "/self-service/recovery/browser";
    public const string RecoveryApi = "/self-service/recovery/api";
    public const string RecoveryFlows = "/self-service/recovery/flows";
    public const string Recovery = "/self-service/recovery";
    /// <summary>The W3C "change password URL" well-known location, which password managers follow.</summary>
    public const string WellKnownChangePassword = "/.well-known/change-password";
    public const string AdminRecoveryCode = "/recovery/code";
    public const string AdminRecoveryLink = "/recovery/link";
    public const string AdminTestLoginFlows = "/test-login-flows";

    /// <summary>
    /// The public flow routes. As in Kratos, browser requests get errors of the browser init routes and of the submit
    /// routes forwarded to the error UI (<see cref="ErrorForwarding"/>): a submit forwards every error until its flow is
    /// known, then only a browser flow's errors other than 400 (<see cref="FlowService.LoadForSubmitAsync"/>). The API
    /// init and fetch routes answer errors directly, except "flow disabled", which Kratos forwards there too.
    /// </summary>
    public static RouteGroupBuilder MapSelfServicePublic(this RouteGroupBuilder root)
    {
        root.MapGet(LoginBrowser, (HttpContext http, LoginFlows flows) => flows.InitAsync(http, FlowTypes.Browser)).ForwardErrorsToUi();
        root.MapGet(LoginApi, (HttpContext http, LoginFlows flows) => flows.InitAsync(http, FlowTypes.Api));
        root.MapGet(LoginFlows, (HttpContext http, LoginFlows flows) => flows.GetAsync(http));
        root.MapPost(Login, (HttpContext http, LoginFlows flows) => flows.SubmitAsync(http)).ForwardErrorsToUi();
        root.MapDelete(LoginTest, (HttpContext http, TestLoginFlows flows) => flows.DeleteAsync(http));
        root.MapGet(RegistrationBrowser, (HttpContext http, RegistrationFlows flows) => flows.InitAsync(http, FlowTypes.Browser)).ForwardErrorsToUi();
        root.MapGet(RegistrationApi, (HttpContext http, RegistrationFlows flows) => flows.InitAsync(http, FlowTypes.Api));
        root.MapGet(RegistrationFlows, (HttpContext http, RegistrationFlows flows) => flows.GetAsync(http));
        root.MapPost(Registration, (HttpContext http, RegistrationFlows flows) => flows.SubmitAsync(http)).ForwardErrorsToUi();
        root.MapGet(SettingsBrowser, (HttpContext http, SettingsFlows flows) => flows.InitAsync(http, FlowTypes.Browser)).ForwardErrorsToUi();
        root.MapGet(SettingsApi, (HttpContext http, SettingsFlows flows) => flows.InitAsync(http, FlowTypes.Api));
        root.MapGet(SettingsFlows, (HttpContext http, SettingsFlows flows) => flows.GetAsync(http));
        root.MapPost(Settings, (HttpContext http, SettingsFlows flows) => flows.SubmitAsync(http)).ForwardErrorsToUi();
        root.MapGet(Settings, (HttpContext http, SettingsFlows flows) => flows.SubmitAsync(http)).ForwardErrorsToUi();
        root.MapGet(VerificationBrowser, (HttpContext http, VerificationFlows flows) => flows.InitAsync(http, FlowTypes.Browser));
        root.MapGet(VerificationApi, (HttpContext http, VerificationFlows flows) => flows.InitAsync(http, FlowTypes.Api));
        root.MapGet(VerificationFlows, (HttpContext http, VerificationFlows flows) => flows.GetAsync(http));
        root.MapPost(Verification, (HttpContext http, VerificationFlows flows) => flows.SubmitAsync(http)).ForwardErrorsToUi();
        root.MapGet(Verification, (HttpContext http, VerificationFlows flows) => flows.SubmitAsync(http)).ForwardErrorsToUi();
        root.MapGet(RecoveryBrowser, (HttpContext http, RecoveryFlows flows) => flows.InitAsync(http, FlowTypes.Browser)).ForwardErrorsToUi();
        root.MapGet(RecoveryApi, (HttpContext http, RecoveryFlows flows) => flows.InitAsync(http, FlowTypes.Api));
        root.MapGet(RecoveryFlows, (HttpContext http, RecoveryFlows flows) => flows.GetAsync(http));
        root.MapPost(Recovery, (HttpContext http, RecoveryFlows flows) => flows.SubmitAsync(http)).ForwardErrorsToUi();
        root.MapGet(Recovery, (HttpContext http, RecoveryFlows flows) => flows.SubmitAsync(http)).ForwardErrorsToUi();
        // Kratos (getWellKnownChangePassword): a 303 to the settings UI, which starts a settings flow (or sends a
        // browser without a session to sign in first).
        root.MapGet(WellKnownChangePassword, (HttpContext http, FlowService flows) =>
        {
            FlowService.Redirect(http, flows.UiUrl(FlowKinds.Settings));
            return Task.CompletedTask;
        });
        return root;
    }

    /// <summary>Admin-initiated recovery and social sign-in test flows (under the <c>/admin</c> group with API-key auth).</summary>
    public static RouteGroupBuilder MapSelfServiceAdmin(this RouteGroupBuilder admin)
    {
        admin.MapPost(AdminRecoveryCode, (HttpContext http, RecoveryFlows flows) => flows.AdminCreateAsync(http, "code"));
        admin.MapPost(AdminRecoveryLink, (HttpContext http, RecoveryFlows flows) => flows.AdminCreateAsync(http, "link"));
        admin.MapPost(AdminTestLoginFlows, (HttpContext http, TestLoginFlows flows) => flows.CreateAsync(http));
        return admin;
    }
}
