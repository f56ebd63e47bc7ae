using System.Globalization;
using Gatehouse.Bench;

// Gatehouse load driver. Scenarios:
//   identities [--count 100000] [--postgres DSN] [--out FILE] [--no-build] [--keep]
//   sessions   [--count 100000] [--sessions 100000] [--postgres DSN] [--out FILE] [--no-build] [--keep]
// Each starts a real `gatehouse serve` (Release build) on free loopback ports with a temporary config,
// drives it over HTTP and prints a table; the same table is written as markdown to --out.
// `bare-endpoint PORT` is the sessions scenario's ceiling server, started by it in a child process.
//   webauthn [N]: in process, the server CPU of N WebAuthn assertion verifications (no server started).
//   http-metrics [N]: in process, the CPU the HTTP metrics add to a request (N requests with and without them).
//   passkeys   [--count 200] [--seconds 10] [--auth-concurrency 4] [--concurrency 8] [--postgres DSN] [--out FILE]:
//              passkey sign-in through the API vs whoami + one verification (issue 12).
//   mfa [N]: in process, the server CPU of N TOTP and N recovery-code verifications (no server started).
//   oidc-callback [--count 500] [--warmup 300] [--postgres DSN]: a real server and a local OpenID provider in this process, the server
//              CPU of the social sign-in callback (sign-up round, sign-in round) and the provider's metadata requests.
//   oauth2 [--seconds 10] [--rounds 2] [--concurrency 8] [--auth-concurrency 4] [--auth-seconds 20] [--postgres DSN]: issue 14's
//              targets: introspection vs a bare endpoint, client_credentials vs the client-secret hasher, the
//              authorization-code round trip's server CPU.
//   code-login [--count N] [--warmup 300]: a real server (SQLite), the server CPU of N passwordless code logins (request + verify).
//   startup [--rounds 10] [--compare-dll PATH] [--postgres DSN]: a fresh `gatehouse serve`'s wall time and CPU to its first
//              answer, against the bare endpoint's process (and another build with --compare-dll), alternating.
if (args is ["bare-endpoint", var barePort])
{
    await BareEndpoint.RunAsync(int.Parse(barePort, CultureInfo.InvariantCulture));
    return 0;
}
if (args is ["webauthn", ..])
{
    // In process, no server: the CPU of verifying one assertion (docs/benchmarks.md, "WebAuthn").
    var verifications = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5000;
    Console.WriteLine(await WebAuthnBenchmark.RunAsync(verifications));
    return 0;
}
if (args is ["http-metrics", ..])
{
    // In process, no server: the CPU the /admin/metrics/prometheus metrics add to a request (docs/benchmarks.md).
    Console.WriteLine(HttpMetricsBenchmark.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2_000_000));
    return 0;
}
if (args is ["mfa", ..])
{
    // In process, no server: the CPU of verifying one TOTP code and one recovery code (docs/benchmarks.md, issue 11).
    Console.WriteLine(MfaVerificationBenchmark.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20_000));
    return 0;
}
if (args.Length == 0 || args[0] is "-h" or "--help" || args[0] is not ("identities" or "sessions" or "passkeys" or "code-login" or "oidc-callback" or "oauth2" or "startup"))
{
    Console.Error.WriteLine("usage: Gatehouse.Bench identities|sessions|passkeys|code-login|oidc-callback|oauth2|startup [--count N] [--postgres DSN] [--out FILE] [--no-build] [--keep] [--server-dll PATH]");
    Console.Error.WriteLine("  identities: [--batch-size 1000] [--lookups 2000] [--lookup-warmup 200] [--page-repeats 100] [--creates 5000] [--concurrency 8]");
    Console.Error.WriteLine("  sessions:   [--sessions 100000] [--concurrency 8] [--seconds 10] [--rounds 2] [--rate 1000]");
    Console.Error.WriteLine("              [--auth-concurrency 4] [--auth-seconds 20] [--bcrypt-cost 12] [--batch-size 1000] [--whoami-cache on|off] [--rate-limits on|off]");
    Console.Error.WriteLine("              [--tracing off|otlp]  (otlp: every request traced, ratio 1, to an OTLP sink in the driver)");
    Console.Error.WriteLine("              [--mfa-share 0.5]  (share of identities with a TOTP second factor and aal2 sessions; whoami then checks required_aal: highest_available)");
    Console.Error.WriteLine("  startup:    [--rounds 10] [--compare-dll PATH]  (another build started in the same rotation)");
    Console.Error.WriteLine("  any:        [--server-cpus LIST]  (pin the servers with taskset -c LIST; run the driver itself under taskset on the other CPUs)");
    Console.Error.WriteLine("              [--flood-rate 1000]  (wrong-password logins/s against one account during a second whoami open loop; 0: none)");
    return args.Length == 0 ? 2 : args[0] is "-h" or "--help" ? 0 : 2;
}

var scenario = args[0];
var options = new BenchOptions();
string? compareDll = null;
var roundsGiven = false;
for (var i = 1; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
    switch (args[i])
    {
        case "--count": options.Count = NextInt(); break;
        case "--postgres": options.PostgresDsn = Next(); break;
        case "--out": options.Out = Next(); break;
        case "--server-dll": options.ServerDll = Path.GetFullPath(Next()); options.Build = false; break;
        case "--no-build": options.Build = false; break;
        case "--keep": options.Keep = true; break;
        case "--batch-size": options.BatchSize = NextInt(); break;
        case "--lookups": options.Lookups = NextInt(); break;
        case "--lookup-warmup": options.LookupWarmup = NextInt(); break;
        case "--page-repeats": options.PageRepeats = NextInt(); break;
        case "--page-size": options.PageSize = NextInt(); break;
        case "--creates": options.Creates = NextInt(); break;
        case "--concurrency": options.Concurrency = NextInt(); break;
        case "--warmup": options.WarmUp = NextInt(); break;
        case "--sessions": options.Sessions = NextInt(); break;
        case "--seconds": options.Seconds = NextInt(); break;
        case "--rounds": options.Rounds = NextInt(); roundsGiven = true; break;
        case "--rate": options.Rate = NextInt(); break;
        case "--auth-concurrency": options.AuthConcurrency = NextInt(); break;
        case "--auth-seconds": options.AuthSeconds = NextInt(); break;
        case "--bcrypt-cost": options.BcryptCost = NextInt(); break;
        case "--flood-rate": options.FloodRate = NextInt(); break;
        case "--mfa-share": options.MfaShare = double.Parse(Next(), CultureInfo.InvariantCulture) is var share and >= 0 and <= 1 ? share : throw new ArgumentException("--mfa-share: expected a number from 0 to 1"); break;
        case "--server-cpus": GatehouseProcess.ServerCpus = Next(); break;
        case "--rate-limits": options.RateLimits = Next() switch { "on" => true, "off" => false, var v => throw new ArgumentException($"--rate-limits: expected on or off, got {v}") }; break;
        case "--compare-dll": compareDll = Path.GetFullPath(Next()); break;
        case "--tracing": options.TracingOtlp = Next() switch { "otlp" => true, "off" => false, var v => throw new ArgumentException($"--tracing: expected off or otlp, got {v}") }; break;
        case "--whoami-cache": options.WhoamiCache = Next() switch { "on" => true, "off" => false, var v => throw new ArgumentException($"--whoami-cache: expected on or off, got {v}") }; break;
        default: throw new ArgumentException($"unknown option {args[i]}");
    }
}

var root = RepoRoot.Find();
options.Out ??= Path.Combine(root, "bench", "results", $"{scenario}-{(options.PostgresDsn is null ? "sqlite" : "postgres")}.md");
if (options.Build) GatehouseProcess.BuildRelease(root);

var work = Directory.CreateTempSubdirectory("gatehouse-bench-");
try
{
    string markdown;
    if (scenario == "identities")
    {
        await using var server = await GatehouseProcess.StartAsync(root, work.FullName, options.PostgresDsn, options.ServerDll);
        markdown = (await new IdentitiesBenchmark(server, options).RunAsync()).ToMarkdown();
    }
    else if (scenario == "passkeys")
    {
        await using var server = await GatehouseProcess.StartAsync(root, work.FullName, options.PostgresDsn, options.ServerDll, PasskeyLoginBenchmark.ServerConfig);
        markdown = await new PasskeyLoginBenchmark(server, options).RunAsync();
    }
    else if (scenario == "oauth2")
    {
        await using var server = await GatehouseProcess.StartAsync(root, work.FullName, options.PostgresDsn, options.ServerDll, OAuth2Benchmark.ServerConfig);
        await using var bare = await BareEndpoint.StartAsync(work.FullName);
        markdown = await new OAuth2Benchmark(server, bare, options).RunAsync();
    }
    else if (scenario == "startup")
    {
        markdown = await StartupBenchmark.RunAsync(root, work.FullName, options, compareDll, roundsGiven ? options.Rounds : 10);
    }
    else if (scenario == "code-login")
    {
        await using var server = await GatehouseProcess.StartAsync(root, work.FullName, options.PostgresDsn, options.ServerDll, CodeLoginBenchmark.ServerConfig(work.FullName));
        markdown = await CodeLoginBenchmark.RunAsync(server, options.Count == 100_000 ? 1000 : options.Count, options.WarmUp ?? 300);
    }
    else if (scenario == "oidc-callback")
    {
        await using var provider = await OidcCallbackBenchmark.Provider.StartAsync();
        await using var server = await GatehouseProcess.StartAsync(root, work.FullName, options.PostgresDsn, options.ServerDll, OidcCallbackBenchmark.ServerConfig(work.FullName, provider.Issuer));
        markdown = await OidcCallbackBenchmark.RunAsync(server, provider, options.Count == 100_000 ? 500 : options.Count, options.WarmUp ?? 300);
    }
    else
    {
        await using var sink = options.TracingOtlp ? await OtlpSink.StartAsync() : null;
        await using var server = await GatehouseProcess.StartAsync(root, work.FullName, options.PostgresDsn, options.ServerDll,
            SessionsBenchmark.ServerConfig(options.BcryptCost, options.WhoamiCache, options.RateLimits, options.MfaShare > 0) + (sink is null ? "" : "\n" + sink.ServerConfig),
            dev: options.BcryptCost < 12);
        await using var bare = await BareEndpoint.StartAsync(work.FullName);
        markdown = (await new SessionsBenchmark(server, bare, options).RunAsync()).ToMarkdown();
        if (sink is not null) markdown += $"\nTracing: every request traced (OTLP/HTTP, ratio 1); the sink received {sink.Exports} exports, {sink.Bytes} bytes.\n";
    }
    Console.WriteLine();
    Console.WriteLine(markdown);
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.Out))!);
    await File.WriteAllTextAsync(options.Out, markdown);
    Console.Error.WriteLine($"results written to {options.Out}");
}
finally
{
    if (options.Keep) Console.Error.WriteLine($"kept {work.FullName}");
    else work.Delete(recursive: true);
}
return 0;
