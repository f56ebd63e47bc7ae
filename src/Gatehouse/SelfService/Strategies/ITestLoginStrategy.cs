using Gatehouse.SelfService.Ui;

namespace Gatehouse.SelfService.Strategies;

/// <summary>
/// A login method that can run a dry-run test of one of its providers for an administrator (Kratos's
/// <c>login.TestStrategy</c>, which only social sign-in implements): the admin-created flow offers that provider alone, and
/// its callback captures what it saw into the flow's <c>test_context</c> instead of signing anybody in.
/// </summary>
public interface ITestLoginStrategy : ILoginStrategy
{
    /// <summary>
    /// Adds the one submit of provider <paramref name="providerId"/> to a test flow's form; null when this method has such a
    /// provider, else the error to answer (Kratos: 404, the provider is not configured). Nothing else is changed then.
    /// </summary>
    Http.Errors.GatehouseError? PopulateTestLogin(UiContainer ui, string providerId);
}
