using System.CommandLine;
using Gatehouse.Cli;

namespace Gatehouse;

public static class Program
{
    public static int Main(string[] args) => Invoke(args);

    public static int Invoke(string[] args)
    {
        var version = new Command("version", "Print the Gatehouse version.");
        version.SetAction(_ => Console.WriteLine(Http.Health.HealthEndpoints.CurrentVersion));
        var root = new RootCommand("Gatehouse: an identity and user-management server that speaks the Ory Kratos API.")
        {
            CliContext.Config,
        };
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(MigrateCommand.Create());
        root.Subcommands.Add(CleanupCommand.Create());
        root.Subcommands.Add(JanitorCommand.Create());
        root.Subcommands.Add(KeysCommand.Create());
        root.Subcommands.Add(CourierCommand.Create());
        root.Subcommands.Add(JsonnetCommand.Create());
        root.Subcommands.Add(OAuth2Command.Create());
        foreach (var verb in KratosCommands.Create()) root.Subcommands.Add(verb);
        root.Subcommands.Add(HashersCommand.Create());
        root.Subcommands.Add(version);

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            Console.Error.WriteLine($"error: {CliContext.OneLine(parse.Errors[0].Message)} (see --help)");
            return 2;
        }
        return parse.Invoke(new InvocationConfiguration { ProcessTerminationTimeout = CliContext.ProcessTerminationTimeout });
    }
}
