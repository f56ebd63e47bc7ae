using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gatehouse.Cli;
using Gatehouse.Hashing.Calibration;

namespace Gatehouse.Tests.Cli;

/// <summary>
/// Kratos's <c>hashers argon2 hash</c>, <c>calibrate</c> and <c>load-test</c> as the real <c>gatehouse</c> process, with
/// tiny argon2 parameters. A load test samples for 20 s; the ones here end within about a second, stopped by a dedicated
/// memory the heap exceeds at the first sample (which is what Kratos does too).
/// </summary>
public sealed class HashersCliTests
{
    private const string GoDuration = @"[0-9.]+(ns|µs|ms|s)|[0-9]+m[0-9.]+s";

    private static Task<CliProcess.Result> Run(params string[] args) => CliProcess.RunAsync(["hashers", "argon2", .. args]);

    private static Task<CliProcess.Result> Run(IDictionary<string, string> env, params string[] args) => CliProcess.RunAsync(["hashers", "argon2", .. args], env);

    private static string ConfigFile(string yaml)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("gatehouse-hashers-").FullName, "kratos.yml");
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public async Task Hash_prints_the_time_of_each_password_and_the_total()
    {
        var r = await Run("hash", "--memory", "8KB", "--iterations", "1", "--parallelism", "1", "first", "second");

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Matches($"^password 0: ({GoDuration})\npassword 1: ({GoDuration})\ntotal: ({GoDuration})\n$", r.Stdout);
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public async Task Hash_in_parallel_prints_every_password_as_it_finishes()
    {
        var r = await Run("hash", "--memory", "8KB", "--parallelism", "1", "--parallel", "a", "b", "c");

        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = r.Stdout.TrimEnd('\n').Split('\n');
        Assert.Equal(["password 0", "password 1", "password 2"], lines[..3].Select(l => l.Split(':')[0]).Order());
        Assert.Matches($"^total: ({GoDuration})$", lines[3]);
    }

    [Fact]
    public async Task Load_test_prints_the_configuration_from_the_file_with_the_flags_on_top_and_stops_at_the_memory_limit()
    {
        // The config's hashers.argon2 is the base (a production config needs no dsn here); the flags given win;
        // $HASHERS_ARGON2_KEY_LENGTH wins over the file, as for every command.
        var config = ConfigFile("""
            hashers:
              algorithm: bcrypt
              argon2:
                memory: 16KB
                iterations: 3
                parallelism: 1
                salt_length: 24
                key_length: 16
                dedicated_memory: 1KB
                expected_duration: 200ms
            """);

        var r = await Run(new Dictionary<string, string> { ["HASHERS_ARGON2_KEY_LENGTH"] = "48" }, "load-test", "60", "-c", config, "--iterations", "2", "--expected-deviation", "1s", "--format", "json");

        // The heap holds more than 110 % of 1 KiB at the first sample, a second in: Kratos's message, exit code 1.
        Assert.Equal(1, r.ExitCode);
        var configuration = JsonNode.Parse(r.Stdout.Split('\n')[0])!;
        Assert.Equal(
            """{"memory":16384,"iterations":2,"parallelism":1,"salt_length":24,"key_length":48,"expected_duration":200000000,"expected_deviation":1000000000,"dedicated_memory":1024}""",
            configuration.ToJsonString());
        Assert.Equal(
            "The hashing configuration used is:\n"
            + "It takes about 20s to collect all necessary data, please be patient.\n"
            + "The hashing load test exceeded the memory limit of 1.00KB. This indicates that you don't have enough resources to handle 60 login requests per minute with the desired minimal time of 200ms. Either dedicate more memory, or decrease the hashing cost (memory and iterations parameters).\n",
            r.Stderr);
    }

    [Fact]
    public async Task Load_test_prints_kratos_table_and_is_silent_with_quiet()
    {
        var table = await Run("load-test", "60", "--memory", "8KB", "--parallelism", "1", "--dedicated-memory", "1KB");

        Assert.Equal(1, table.ExitCode);
        Assert.Equal(
            "MEMORY\t\t\t8.00KB\t\n"
            + "ITERATIONS\t\t1\t\n"
            + "PARALLELISM\t\t1\t\n"
            + "SALT LENGTH\t\t16\t\n"
            + "KEY LENGTH\t\t32\t\n"
            + "EXPECTED DURATION\t500ms\t\n"
            + "EXPECTED DEVIATION\t500ms\t\n"
            + "DEDICATED MEMORY\t1.00KB\t\n",
            table.Stdout);

        var quiet = await Run("load-test", "60", "--memory", "8KB", "--parallelism", "1", "--dedicated-memory", "1KB", "-q");
        Assert.Equal(1, quiet.ExitCode);
        Assert.Equal("", quiet.Stdout);
        Assert.StartsWith("The hashing load test exceeded the memory limit of 1.00KB.", quiet.Stderr);
    }

    [Fact]
    public async Task A_key_pressed_during_a_load_test_gets_kratos_answer_unless_quiet()
    {
        string[] args = ["hashers", "argon2", "load-test", "60", "--memory", "8KB", "--parallelism", "1", "--dedicated-memory", "1KB"];

        var impatient = await CliProcess.RunAsync(args, stdin: "\n");
        Assert.Equal(1, impatient.ExitCode);
        Assert.Contains("I SAID BE PATIENT!!!\n", impatient.Stderr);

        var quiet = await CliProcess.RunAsync([.. args, "--quiet"], stdin: "\n");
        Assert.DoesNotContain("PATIENT", quiet.Stderr);
    }

    [Fact]
    public async Task Calibrate_probes_down_to_the_smallest_memory_then_load_tests()
    {
        // No duration is short enough under 0s: memory comes down to 1 KiB (halving the step), iterations stay at one,
        // and the first load test stops at the 1 KiB dedicated memory.
        var r = await Run("calibrate", "60", "--start-memory", "16KB", "--adjust-memory-by", "8KB", "--min-duration", "0s",
            "--dedicated-memory", "1KB", "--parallelism", "1", "-r", "1");

        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        var lines = r.Stderr.Split('\n').Where(l => !l.StartsWith("    took", StringComparison.Ordinal)).ToList();
        Assert.Equal("Increasing memory to get over 0s:", lines[0]);
        Assert.Matches($"^  took ({GoDuration}) with 16.00KB of memory$", lines[1]);
        Assert.Equal("Decreasing memory to get under 0s:", lines[2]);
        Assert.Equal(
            ["8.00KB", "4.00KB", "2.00KB", "1.00KB"],
            lines.Select(l => Regex.Match(l, "^  took .* with (?<m>.*) of memory$")).Where(m => m.Success).Skip(1).Select(m => m.Groups["m"].Value));
        Assert.Contains("Settled on 1.00KB of memory.", lines);
        Assert.Contains("Settled on 1 iterations.", lines);
        Assert.Contains("Running load test to simulate 60 login requests per minute.", lines);
        Assert.StartsWith("The hashing load test exceeded the memory limit of 1.00KB.", lines[^2]);
    }

    [Theory]
    [InlineData("error: requests-per-minute \"many\" is not a whole number", "calibrate", "many")]
    [InlineData("error: authentication-requests-per-minute \"1e3\" is not a whole number", "load-test", "1e3")]
    [InlineData("error: authentication-requests-per-minute is 2; it must be at least 3 (a load test simulates a third of a minute's requests)", "load-test", "2")]
    [InlineData("error: --memory is 512.00B; argon2 needs at least 1KB and at most 2TB", "hash", "--memory", "512B", "pw")]
    [InlineData("error: --memory \"lots\" is not a size (e.g. 128MB, 1GB)", "hash", "--memory", "lots", "pw")]
    [InlineData("error: --start-memory is 0.00B; argon2 needs at least 1KB and at most 2TB", "calibrate", "60", "--start-memory", "0B")]
    [InlineData("error: --adjust-memory-by must be more than 0", "calibrate", "60", "--adjust-memory-by", "0B")]
    [InlineData("error: --max-memory must be 0 (no limit) or at least 1KB", "calibrate", "60", "--max-memory", "10B")]
    [InlineData("error: --probe-runs is 0; it must be 1 or more", "calibrate", "60", "-r", "0")]
    [InlineData("error: --min-duration: time: unknown unit \"x\" in duration \"5x\"", "load-test", "60", "--min-duration", "5x")]
    [InlineData("error: --expected-deviation is -1s; it must not be negative", "load-test", "60", "--expected-deviation", "-1s")]
    [InlineData("error: --parallelism is 256; it must be between 1 and 255", "hash", "--parallelism", "256", "pw")]
    [InlineData("error: --salt-length is 4; it must be 8 or more", "hash", "--salt-length", "4", "pw")]
    [InlineData("error: --format \"yaml\" is not supported: use table, json or json-pretty", "load-test", "60", "--format", "yaml")]
    public async Task Bad_input_is_one_line_on_stderr_and_a_failing_exit_code(string expected, params string[] args)
    {
        var r = await Run(args);

        Assert.Equal(1, r.ExitCode);
        Assert.Equal(expected, r.Stderr.TrimEnd('\n'));
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public async Task Bad_config_values_are_named_by_their_key()
    {
        var small = await Run("hash", "pw", "-c", ConfigFile("hashers:\n  argon2:\n    memory: 512B\n"));
        Assert.Equal(1, small.ExitCode);
        Assert.Equal("error: hashers.argon2.memory is 512 bytes; argon2 needs at least 1 KiB and at most 2 TiB.", small.Stderr.TrimEnd('\n'));

        // The flag wins over the file, so the same config hashes with --memory.
        var overridden = await Run("hash", "pw", "--memory", "8KB", "--parallelism", "1", "-c", ConfigFile("hashers:\n  argon2:\n    memory: 512B\n"));
        Assert.True(overridden.ExitCode == 0, overridden.Stderr);

        var wrong = await Run("hash", "pw", "-c", ConfigFile("hashers:\n  argon2:\n    iterations: many\n"));
        Assert.Equal(1, wrong.ExitCode);
        Assert.StartsWith("error: hashers.argon2.iterations: expected an integer", wrong.Stderr);
        Assert.Single(wrong.Stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task The_commands_have_help()
    {
        var r = await Run("--help");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("hash", r.Stdout);
        Assert.Contains("calibrate", r.Stdout);
        Assert.Contains("load-test", r.Stdout);
        var calibrate = await Run("calibrate", "--help");
        Assert.Contains("--probe-runs", calibrate.Stdout);
        Assert.Contains("--max-concurrent", calibrate.Stdout);
    }

    [Fact]
    public void A_calibration_that_gave_up_prints_every_measurement_as_a_table_or_json()
    {
        var result = new Argon2LoadTestResult(TimeSpan.FromSeconds(20.5), TimeSpan.FromMilliseconds(480), TimeSpan.FromMilliseconds(12.5), TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(1.2), 300L << 20);
        var parameters = new Argon2Parameters(128L << 20, 3, 4, 16, 32, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500), 1L << 30);
        Argon2Measurement[] measurements = [new(result, parameters), new(result with { MedianTime = TimeSpan.FromMilliseconds(520) }, parameters with { Iterations = 4 })];

        var table = new StringWriter();
        HashersCommand.PrintMeasurements(KratosTablePrinter.Create("table", table), measurements);
        Assert.Equal(
            "TOTAL SAMPLE TIME\tMEDIAN REQUEST TIME\tSTANDARD DEVIATION\tMIN REQUEST TIME\tMAX REQUEST TIME\tMEMOry USED\tMEMOry PARAM\tITERATIONS PARAM\t\n"
            + "20.5s\t\t\t480ms\t\t\t12.5ms\t\t\t400ms\t\t\t1.2s\t\t\t300.00MB\t134217728\t3\t\t\t\n"
            + "20.5s\t\t\t520ms\t\t\t12.5ms\t\t\t400ms\t\t\t1.2s\t\t\t300.00MB\t134217728\t4\t\t\t\n",
            table.ToString());

        var json = new StringWriter();
        HashersCommand.PrintMeasurements(KratosTablePrinter.Create("json", json), measurements);
        var rows = JsonNode.Parse(json.ToString())!.AsArray();
        Assert.Equal(
            """{"total_time":20500000000,"median_request_time":480000000,"std_deviation":12500000,"min_request_time":400000000,"max_request_time":1200000000,"mem_used":314572800,"memory":134217728,"iterations":3}""",
            rows[0]!.ToJsonString());
        Assert.Equal(520_000_000, rows[1]!["median_request_time"]!.GetValue<long>());

        var quiet = new StringWriter();
        HashersCommand.PrintMeasurements(KratosTablePrinter.Create("quiet", quiet), measurements);
        Assert.Equal("20.5s\n20.5s\n", quiet.ToString());
    }
}
