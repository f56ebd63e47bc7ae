using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Hashing.Calibration;

namespace Gatehouse.Cli;

/// <summary>
/// Kratos's <c>hashers argon2 hash</c>, <c>calibrate</c> and <c>load-test</c> (<c>cmd/hashers/argon2</c>): the same
/// flags, defaults, messages and output, hashing with the server's own argon2 (<see cref="Hashing.PasswordHasher"/>), so
/// what they measure is what a login costs here. The parameters are <c>hashers.argon2</c> from <c>--config</c> files and
/// the environment, overridden by the flags that are given (Kratos's <c>configProvider</c>). See docs/hashing.md.
/// </summary>
internal static class HashersCommand
{
    private const long KiB = 1024;

    private const string Documentation = "https://www.ory.sh/kratos/docs/debug/performance-out-of-memory-password-hashing-argon2";

    public static Command Create()
    {
        var argon2 = new Command("argon2", "Argon2 helpers: hash passwords, calibrate the parameters, load-test them.")
        {
            Hash(), Calibrate(), LoadTest(),
        };
        return new Command("hashers", "This command contains helpers around hashing") { argon2 };
    }

    /// <summary>Kratos's flags for the parameters (<c>registerArgon2ConfigFlags</c>); calibrate has no memory and iterations flags of this kind.</summary>
    private sealed class ParameterFlags
    {
        private readonly Option<int>? _iterations;
        private readonly Option<string>? _memory;

        public ParameterFlags(Command command, bool withCost)
        {
            if (withCost)
            {
                _iterations = new Option<int>("--iterations") { Description = "Number of iterations (argon2's t).", DefaultValueFactory = _ => 1 };
                _memory = new Option<string>("--memory") { Description = "Memory to use, e.g. 64MB (argon2's m).", DefaultValueFactory = _ => "128MB" };
                command.Options.Add(_iterations);
                command.Options.Add(_memory);
            }
            foreach (var option in new Option[] { DedicatedMemory, MinDuration, ExpectedDeviation, Parallelism, SaltLength, KeyLength }) command.Options.Add(option);
        }

        public Option<string> DedicatedMemory { get; } = new("--dedicated-memory")
        {
            Description = "Amount of memory dedicated for password hashing; the load test stops above 110 % of it.",
            DefaultValueFactory = _ => "1GB",
        };

        public Option<string> MinDuration { get; } = new("--min-duration")
        {
            Description = "Minimal duration a hashing operation (~login request) takes (hashers.argon2.expected_duration).",
            DefaultValueFactory = _ => "500ms",
        };

        public Option<string> ExpectedDeviation { get; } = new("--expected-deviation")
        {
            Description = "Expected deviation of the time a hashing operation (~login request) takes.",
            DefaultValueFactory = _ => "500ms",
        };

        public Option<int> Parallelism { get; } = new("--parallelism")
        {
            Description = "Number of lanes (argon2's p); Gatehouse computes them on one thread.",
            DefaultValueFactory = _ => Math.Max(1, Environment.ProcessorCount * 2),
        };

        public Option<int> SaltLength { get; } = new("--salt-length") { Description = "Length of the salt in bytes.", DefaultValueFactory = _ => 16 };

        public Option<int> KeyLength { get; } = new("--key-length") { Description = "Length of the key in bytes.", DefaultValueFactory = _ => 32 };

        /// <summary>
        /// <c>hashers.argon2</c> from the config files and environment, with each flag that was given on top; every value
        /// checked, so a hash can be made with them.
        /// </summary>
        public Argon2Parameters Resolve(ParseResult parse)
        {
            var (hashers, warnings) = ConfigLoader.LoadHashers(parse.GetValue(CliContext.Config) ?? [], CliContext.Environment());
            foreach (var warning in warnings) Console.Error.WriteLine($"warning: {warning}");
            var p = Argon2Parameters.From(hashers.Argon2);
            if (Given(parse, _iterations)) p = p with { Iterations = Count(parse, _iterations!, 1, int.MaxValue) };
            if (Given(parse, _memory)) p = p with { Memory = Memory(parse, _memory!) };
            if (Given(parse, Parallelism)) p = p with { Parallelism = Count(parse, Parallelism, 1, byte.MaxValue) };
            if (Given(parse, SaltLength)) p = p with { SaltLength = Count(parse, SaltLength, 8, int.MaxValue) };
            if (Given(parse, KeyLength)) p = p with { KeyLength = Count(parse, KeyLength, 4, int.MaxValue) };
            if (Given(parse, DedicatedMemory)) p = p with { DedicatedMemory = Size(parse, DedicatedMemory) };
            if (Given(parse, MinDuration)) p = p with { ExpectedDuration = Duration(parse, MinDuration) };
            if (Given(parse, ExpectedDeviation)) p = p with { ExpectedDeviation = Duration(parse, ExpectedDeviation) };
            return p;
        }
    }

    private static bool Given(ParseResult parse, Option? option) => option is not null && parse.GetResult(option) is { Implicit: false };

    private static int Count(ParseResult parse, Option<int> option, int min, int max)
    {
        var value = parse.GetValue(option);
        if (value < min || value > max)
            throw new ArgumentException(max == int.MaxValue ? $"{option.Name} is {value}; it must be {min} or more" : $"{option.Name} is {value}; it must be between {min} and {max}");
        return value;
    }

    /// <summary>A size such as <c>128MB</c>, as the config takes it.</summary>
    private static long Size(ParseResult parse, Option<string> option)
    {
        var text = parse.GetValue(option) ?? "";
        return ByteSizeJsonConverter.TryParse(text, out var bytes) ? bytes : throw new ArgumentException($"{option.Name} \"{text}\" is not a size (e.g. 128MB, 1GB)");
    }

    /// <summary>An argon2 memory: at least 1 KiB (less would be m=0) and at most what fits argon2's 32-bit KiB count.</summary>
    private static long Memory(ParseResult parse, Option<string> option)
    {
        var bytes = Size(parse, option);
        if (bytes < Argon2Parameters.MinMemory || bytes / KiB > int.MaxValue)
            throw new ArgumentException($"{option.Name} is {KratosFormat.Size(bytes)}; argon2 needs at least 1KB and at most 2TB");
        return bytes;
    }

    private static TimeSpan Duration(ParseResult parse, Option<string> option)
    {
        var text = parse.GetValue(option) ?? "";
        if (!GoDuration.TryParse(text, out var value)) throw new ArgumentException($"{option.Name}: {GoDuration.ParseError(text)}");
        if (value < TimeSpan.Zero) throw new ArgumentException($"{option.Name} is {text}; it must not be negative");
        return value;
    }

    /// <summary>Kratos parses the rate with Go's <c>strconv.ParseInt</c>; a third of it is hashed, so under 3 there is nothing to measure.</summary>
    private static int RequestsPerMinute(ParseResult parse, Argument<string> argument)
    {
        var text = parse.GetValue(argument) ?? "";
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            throw new ArgumentException($"{argument.Name} \"{text}\" is not a whole number");
        if (value < 3)
            throw new ArgumentException($"{argument.Name} is {value}; it must be at least 3 (a load test simulates a third of a minute's requests)");
        return value;
    }

    /// <summary>The server's own hasher, on a thread of its own, so concurrent hashes run at once as Kratos's goroutines do.</summary>
    private static Task HashOnItsOwnThread(Argon2Parameters parameters, CancellationToken cancellationToken)
    {
        var hasher = parameters.CreateHasher();
        return Task.Factory.StartNew(() => hasher.Hash(Argon2Benchmark.Password), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>
    /// Hashes with small parameters, untimed, for about a second before anything is measured. .NET compiles code in
    /// tiers: a process's first hashes run code that is not yet optimized, several times slower (on the development
    /// machine a 4 MB hash took about 25 ms for its first six or seven runs, then 3 to 5 ms), which a server that has
    /// been hashing for a while has long left behind. Kratos's Go code needs no warming up.
    /// </summary>
    private static void WarmUp()
    {
        var hasher = new Argon2Parameters(64 * KiB, 1, 1, 16, 32, TimeSpan.Zero, TimeSpan.Zero, 0).CreateHasher();
        var time = TimeProvider.System;
        var start = time.GetTimestamp();
        while (time.GetElapsedTime(start) < TimeSpan.FromSeconds(1)) hasher.Hash(Argon2Benchmark.Password);
    }

    /// <summary>The server's hasher with these parameters; one it cannot take (from the config: the flags are checked already) is named by its key.</summary>
    private static Hashing.PasswordHasher Hasher(Argon2Parameters parameters)
    {
        try
        {
            return parameters.CreateHasher();
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException(e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal), e);
        }
    }

    private static Command Hash()
    {
        var passwords = new Argument<string[]>("password") { Description = "The passwords to hash.", Arity = ArgumentArity.OneOrMore };
        var parallel = new Option<bool>("--parallel") { Description = "Run all hashing operations in parallel." };
        var command = new Command("hash", "Hash a list of passwords for benchmarking the hashing parameters") { passwords, parallel };
        var flags = new ParameterFlags(command, withCost: true);
        command.SetAction((parse, ct) => CliContext.Run(async () =>
        {
            var parameters = flags.Resolve(parse);
            var hasher = Hasher(parameters);
            var time = TimeProvider.System;
            var output = new object();
            string? HashOne(int index, string password)
            {
                var start = time.GetTimestamp();
                string? error = null;
                try
                {
                    hasher.Hash(password);
                }
                catch (Exception e) when (e is ArgumentException or CryptographicException)
                {
                    error = e.Message;
                }
                lock (output) Console.Out.Write($"password {index}: {GoDuration.ToGoString(time.GetElapsedTime(start))}\n");
                return error;
            }

            var all = parse.GetValue(passwords) ?? [];
            WarmUp();
            var started = time.GetTimestamp();
            string? failure = null;
            if (parse.GetValue(parallel))
            {
                var hashes = all.Select((password, i) => Task.Factory.StartNew(() => HashOne(i, password), ct, TaskCreationOptions.LongRunning, TaskScheduler.Default));
                failure = (await Task.WhenAll(hashes)).FirstOrDefault(e => e is not null);
            }
            else
            {
                for (var i = 0; i < all.Length && failure is null; i++) failure = HashOne(i, all[i]);
            }
            if (failure is not null)
            {
                Console.Error.WriteLine($"Could not generate hash: {failure}");
                return 1;
            }
            Console.Out.Write($"total: {GoDuration.ToGoString(time.GetElapsedTime(started))}\n");
            return 0;
        }));
        return command;
    }

    private static Command Calibrate()
    {
        var rate = new Argument<string>("requests-per-minute") { Description = "The login requests per minute the parameters must bear." };
        var runs = new Option<int>("--probe-runs", "-r") { Description = "Hashes per probe; the probe's result is their mean time.", DefaultValueFactory = _ => 2 };
        var startMemory = new Option<string>("--start-memory", "-m") { Description = "Amount of memory to start probing at.", DefaultValueFactory = _ => "128MB" };
        var maxMemory = new Option<string>("--max-memory") { Description = "Maximum memory allowed (0 means no limit).", DefaultValueFactory = _ => "0" };
        var adjustMemory = new Option<string>("--adjust-memory-by") { Description = "Amount by which the memory is adjusted in every step while probing.", DefaultValueFactory = _ => "512MB" };
        var startIterations = new Option<int>("--start-iterations", "-i") { Description = "Number of iterations to start probing at.", DefaultValueFactory = _ => 1 };
        var maxConcurrent = new Option<int>("--max-concurrent") { Description = "Maximum number of concurrent hashing operations (accepted, no effect, as in Kratos).", DefaultValueFactory = _ => 16 };
        var format = KratosTablePrinter.FormatOption();
        var quiet = KratosTablePrinter.QuietOption();
        var command = new Command("calibrate", """
            Computes Optimal Argon2 Parameters.

            Finds argon2 parameters for this machine: password hashing trades security against resource use and the time a
            login takes. It probes memory, then iterations, up to and back under --min-duration (half a second to a second
            is a good balance), then load-tests them at the given rate, adjusting them after each test.

            The values depend on the machine that hashes. Where memory is scarce, set --dedicated-memory (or
            hashers.argon2.dedicated_memory) to what Gatehouse may use.
            """)
        {
            rate, runs, startMemory, maxMemory, adjustMemory, startIterations, maxConcurrent, format, quiet,
        };
        var flags = new ParameterFlags(command, withCost: false);
        command.SetAction((parse, ct) => CliContext.Run(async () =>
        {
            var printer = KratosTablePrinter.From(parse, format, quiet, Console.Out);
            // As in Kratos, the probing always starts at the start flags (or their defaults), whatever the config says.
            var start = flags.Resolve(parse) with
            {
                Memory = Memory(parse, startMemory),
                Iterations = Count(parse, startIterations, 1, int.MaxValue),
            };
            Hasher(start);
            var request = new Argon2CalibrationRequest(
                start,
                RequestsPerMinute(parse, rate),
                Count(parse, runs, 1, int.MaxValue),
                Size(parse, maxMemory) is var max && (max == 0 || max >= Argon2Parameters.MinMemory) ? max : throw new ArgumentException("--max-memory must be 0 (no limit) or at least 1KB"),
                Size(parse, adjustMemory) is > 0 and var step ? step : throw new ArgumentException("--adjust-memory-by must be more than 0"));
            Count(parse, maxConcurrent, 0, byte.MaxValue);

            var silent = parse.GetValue(quiet);
            using var impatience = silent ? null : Impatience.Watch();
            WarmUp();
            var benchmark = new Argon2Benchmark(TimeProvider.System, HashOnItsOwnThread, GcHeapProbe.Instance, Random.Shared, silent ? TextWriter.Null : Console.Error);
            Argon2Calibration outcome;
            try
            {
                outcome = await benchmark.CalibrateAsync(request, silent ? TextWriter.Null : Colors.Green(Console.Error),
                    result => printer.Row(Argon2LoadTestResult.Header, result.Columns(), result.ToJson()), ct);
            }
            catch (Argon2BenchmarkException e)
            {
                Console.Error.WriteLine(e.Message);
                return 1;
            }
            if (outcome.Chosen is { } chosen)
            {
                printer.Row(Argon2Parameters.Header, chosen.Columns(), chosen.ToJson());
                return 0;
            }
            Console.Error.WriteLine("Could not automatically determine good parameters. Have a look at all the measurements taken and select acceptable values yourself. Have a look in the docs for more information: " + Documentation);
            PrintMeasurements(printer, outcome.Measurements);
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// The table a calibration that gave up prints: each load test's result with the memory (in bytes) and iterations it
    /// ran with. Kratos's JSON of it is a list of empty objects (its fields are unexported); here each object holds the
    /// result's fields and <c>memory</c> and <c>iterations</c>.
    /// </summary>
    internal static void PrintMeasurements(KratosTablePrinter printer, IReadOnlyList<Argon2Measurement> measurements) => printer.Table(
        [.. Argon2LoadTestResult.Header, "MEMOry PARAM", "ITERATIONS PARAM"],
        [.. measurements.Select(m => (IReadOnlyList<string>)[.. m.Result.Columns(), m.Parameters.Memory.ToString(CultureInfo.InvariantCulture), m.Parameters.Iterations.ToString(CultureInfo.InvariantCulture)])],
        new JsonArray([.. measurements.Select(m =>
        {
            var row = m.Result.ToJson();
            row["memory"] = m.Parameters.Memory;
            row["iterations"] = m.Parameters.Iterations;
            return (JsonNode)row;
        })]));

    private static Command LoadTest()
    {
        var rate = new Argument<string>("authentication-requests-per-minute") { Description = "The login requests per minute to simulate." };
        var format = KratosTablePrinter.FormatOption();
        var quiet = KratosTablePrinter.QuietOption();
        var command = new Command("load-test", "Simulate the password hashing with a number of concurrent requests/minute. Simulates a number of concurrent authentication requests per minute. Gives statistical data about the measured performance and resource consumption. Can be used to tune and test the hashing parameters for peak demand situations.")
        {
            rate, format, quiet,
        };
        var flags = new ParameterFlags(command, withCost: true);
        command.SetAction((parse, ct) => CliContext.Run(async () =>
        {
            var requestsPerMinute = RequestsPerMinute(parse, rate);
            var printer = KratosTablePrinter.From(parse, format, quiet, Console.Out);
            var parameters = flags.Resolve(parse);
            Hasher(parameters);
            var silent = parse.GetValue(quiet);
            if (!silent)
            {
                Console.Error.WriteLine("The hashing configuration used is:");
                printer.Row(Argon2Parameters.Header, parameters.Columns(), parameters.ToJson());
            }
            using var impatience = silent ? null : Impatience.Watch();
            WarmUp();
            var benchmark = new Argon2Benchmark(TimeProvider.System, HashOnItsOwnThread, GcHeapProbe.Instance, Random.Shared, silent ? TextWriter.Null : Console.Error);
            try
            {
                var result = await benchmark.LoadTestAsync(parameters, requestsPerMinute, ct);
                printer.Row(Argon2LoadTestResult.Header, result.Columns(), result.ToJson());
                return 0;
            }
            catch (Argon2BenchmarkException e)
            {
                Console.Error.WriteLine(e.Message);
                return 1;
            }
        }));
        return command;
    }

    /// <summary>ANSI colours where Kratos uses them (fatih/color): only when standard output is a terminal, and not with <c>NO_COLOR</c> or <c>TERM=dumb</c>.</summary>
    private static class Colors
    {
        private static bool Enabled =>
            !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null && Environment.GetEnvironmentVariable("TERM") != "dumb";

        public static TextWriter Green(TextWriter inner) => Enabled ? new ColoredWriter(inner, "\u001b[32m") : inner;

        public static string Red(string text) => Enabled ? $"\u001b[31m{text}\u001b[0m" : text;

        private sealed class ColoredWriter(TextWriter inner, string color) : TextWriter
        {
            public override System.Text.Encoding Encoding => inner.Encoding;

            public override void Write(char value) => Write(value.ToString());

            public override void Write(string? value)
            {
                if (!string.IsNullOrEmpty(value)) inner.Write($"{color}{value}\u001b[0m");
            }
        }
    }

    /// <summary>
    /// Kratos's answer to a key pressed during a load test: "I SAID BE PATIENT!!!" in red, once. Standard input is read
    /// on a background thread (never with <c>--quiet</c>); at its end (a closed or empty input) nothing is said.
    /// </summary>
    private sealed class Impatience : IDisposable
    {
        private volatile bool _done;

        public static Impatience Watch()
        {
            var watch = new Impatience();
            var reader = new Thread(() =>
            {
                try
                {
                    if (Console.In.Read() >= 0 && !watch._done) Console.Error.WriteLine(Colors.Red("I SAID BE PATIENT!!!"));
                }
                catch (IOException)
                {
                    // No readable standard input: nobody to tell.
                }
            }) { IsBackground = true, Name = "gatehouse-impatience" };
            reader.Start();
            return watch;
        }

        public void Dispose() => _done = true;
    }
}
