using System.CommandLine;
using Gatehouse.Jsonnet;

namespace Gatehouse.Cli;

/// <summary><c>gatehouse jsonnet eval FILE</c>: lets users check the Jsonnet templates they bring from Kratos.</summary>
public static class JsonnetCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The Jsonnet file to evaluate (- for standard input)." };
        var extStr = Multi("--ext-str", "Provide an external variable as a string: NAME=VALUE (or NAME to read the environment variable).");
        var extCode = Multi("--ext-code", "Provide an external variable as Jsonnet code: NAME=CODE.");
        var tlaStr = Multi("--tla-str", "Provide a top-level argument as a string: NAME=VALUE (or NAME to read the environment variable).");
        var tlaCode = Multi("--tla-code", "Provide a top-level argument as Jsonnet code: NAME=CODE.");
        var jpath = Multi("--jpath", "Add a library search folder; the right-most wins.", "-J");
        var maxStack = new Option<int>("--max-stack", "-s") { Description = "Number of allowed stack frames.", DefaultValueFactory = _ => 500 };

        var eval = new Command("eval", "Evaluate a Jsonnet file and print the JSON as the jsonnet CLI does.")
        {
            file, extStr, extCode, tlaStr, tlaCode, jpath, maxStack,
        };
        eval.SetAction(parseResult => JsonnetFileRunner.Run(
            parseResult.GetValue(file)!,
            new JsonnetRunRequest
            {
                ExtStr = parseResult.GetValue(extStr) ?? [],
                ExtCode = parseResult.GetValue(extCode) ?? [],
                TlaStr = parseResult.GetValue(tlaStr) ?? [],
                TlaCode = parseResult.GetValue(tlaCode) ?? [],
                LibraryPaths = parseResult.GetValue(jpath) ?? [],
                MaxStackFrames = parseResult.GetValue(maxStack),
            },
            Console.Out,
            Console.Error));

        return new Command("jsonnet", "Jsonnet tools.") { eval };
    }

    private static Option<string[]> Multi(string name, string description, params string[] aliases) =>
        new(name, aliases) { Description = description, Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false };
}
