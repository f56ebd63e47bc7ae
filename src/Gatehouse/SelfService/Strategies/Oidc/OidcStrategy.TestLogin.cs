using Gatehouse.Http.Errors;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Flows.Login;
using Gatehouse.SelfService.Ui;
using Gatehouse.Text;

namespace Gatehouse.SelfService.Strategies.Oidc;

/// <summary>Dry-run tests of one provider for administrators (Kratos's <c>strategy_test_login.go</c>).</summary>
public sealed partial class OidcStrategy
{
    /// <summary>
    /// The test flow's only method button (Kratos's <c>PopulateTestLoginFlow</c>): <c>provider=&lt;id&gt;</c> labelled 1010002
    /// "Sign in with &lt;label or id&gt;"; 404 when no provider has this id.
    /// </summary>
    public GatehouseError? PopulateTestLogin(UiContainer ui, string providerId)
    {
        if (Provider(providerId) is not { } provider) return GatehouseError.NotFound($"OpenID Connect provider \"{providerId}\" is not configured");
        ui.Nodes.Add(UiNodes.Submit("provider", provider.Id, Group, Messages.SignInWith(provider.DisplayLabel, provider.Id)));
        return null;
    }

    /// <summary>
    /// A test flow's submit goes upstream only to the provider the flow was made for, by the redirect (an <c>id_token</c>
    /// would sign in without the round trip the test is about).
    /// </summary>
    private async Task<string?> StartTestAsync(LoginSubmission submission, CancellationToken ct)
    {
        var scoped = TestLoginContext.ProviderId(submission.Flow);
        if (FormBody.String(submission.Body, "provider") != scoped)
        {
            submission.Ui.Messages.Add(Messages.Generic($"This test login flow tests the OpenID Connect provider \"{scoped}\" only."));
            return null;
        }
        if (!string.IsNullOrEmpty(FormBody.String(submission.Body, "id_token")))
        {
            submission.Ui.Messages.Add(Messages.Generic("A test login flow signs in through the provider's redirect, not with an id_token."));
            return null;
        }
        return await StartAsync(submission.Http, submission.Flow, submission.Ui, submission.Body, ct, scoped);
    }
}
