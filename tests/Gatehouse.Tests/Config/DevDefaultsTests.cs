using Gatehouse.Config;

namespace Gatehouse.Tests.Config;

public sealed class DevDefaultsTests
{
    [Fact]
    public void Dev_without_config_signs_users_in_after_registration_like_the_quickstart()
    {
        var result = ConfigLoader.Load([], new Dictionary<string, string?>(), dev: true);
        Assert.Equal(ConfigLoader.DevDsn, result.Options.Dsn);
        Assert.Contains(result.Options.Selfservice.Flows.Registration.After.HooksFor("password"), h => h.Hook == "session");
    }

    [Fact]
    public void Without_dev_no_hook_is_added()
    {
        var result = ConfigLoader.Load([], new Dictionary<string, string?> { ["DSN"] = "memory" }, dev: false);
        Assert.Empty(result.Options.Selfservice.Flows.Registration.After.HooksFor("password"));
    }
}
