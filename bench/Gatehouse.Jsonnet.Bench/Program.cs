using System.Diagnostics;
using System.Globalization;
using Gatehouse.Jsonnet;

namespace Gatehouse.Jsonnet.Bench;

/// <summary>
/// Stopwatch benchmarks of the Jsonnet engine (not part of the test run):
/// <c>dotnet run -c Release --project bench/Gatehouse.Jsonnet.Bench</c>.
/// </summary>
internal static class Program
{
    private const string WebHookTemplate = """
        function(ctx) {
          user_id: ctx.identity.id,
          email: ctx.identity.traits.email,
          name: ctx.identity.traits.name.first + ' ' + ctx.identity.traits.name.last,
          flow: { id: ctx.flow.id, type: ctx.flow.type, ui_url: ctx.flow.request_url },
          verified: std.length([a for a in ctx.identity.verifiable_addresses if a.verified]) > 0,
          headers: { [std.asciiLower(k)]: ctx.request_headers[k][0] for k in std.objectFields(ctx.request_headers) },
          metadata: ctx.identity.metadata_public,
          tags: std.map(std.asciiUpper, ctx.identity.traits.tags),
          created: std.split(ctx.identity.created_at, 'T')[0],
        }
        """;

    private const string HeavyStd = """
        local items = [{ id: i, name: 'item-%05d' % i, score: (i * 7919) % 10007, tags: ['a', 'b'] } for i in std.range(1, 10000)];
        local sorted = std.sort(items, function(x) x.score);
        std.length(std.manifestJsonEx(sorted, '  '))
        """;

    public static void Main(string[] args)
    {
        var iterations = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20000;
        var context = Context("flow-0");
        Console.WriteLine($"context: {context.Length} bytes of JSON");
        var engine = new JsonnetEngine();

        // The same context every time (its JSON parsed on every evaluation, the program cached).
        Measure("web-hook body, cached program, JSON context", iterations, _ =>
            engine.Evaluate(WebHookTemplate, "webhook.jsonnet", Options(ExternalValue.Json(context))));

        // The template compiled once up front (JsonnetEngine.Compile), as a server does at start-up.
        var program = engine.Compile(WebHookTemplate, "webhook.jsonnet");
        Measure("web-hook body, compiled JsonnetProgram, JSON context", iterations, _ =>
            program.Evaluate(Options(ExternalValue.Json(context))));

        // A different context on each call, as a server sees it.
        var contexts = Enumerable.Range(0, 256).Select(i => Context("flow-" + i.ToString(CultureInfo.InvariantCulture))).ToArray();
        Measure("web-hook body, cached program, varying JSON context", iterations, i =>
            engine.Evaluate(WebHookTemplate, "webhook.jsonnet", Options(ExternalValue.Json(contexts[i % contexts.Length]))));

        // The context as Jsonnet code (--tla-code), as the reference CLI would take it.
        Measure("web-hook body, cached program, context as Jsonnet code", iterations, _ =>
            engine.Evaluate(WebHookTemplate, "webhook.jsonnet", Options(ExternalValue.Code(context))));

        Measure("web-hook body, parsed every time (fresh engine)", iterations / 10, _ =>
            new JsonnetEngine().Evaluate(WebHookTemplate, "webhook.jsonnet", Options(ExternalValue.Json(context))));

        Measure("std.sort + std.manifestJsonEx on 10,000 objects", 20, _ =>
            engine.Evaluate(HeavyStd, "heavy.jsonnet", new JsonnetEvaluationOptions()));
    }

    private static JsonnetEvaluationOptions Options(ExternalValue ctx) => new()
    {
        TopLevelArgs = new Dictionary<string, ExternalValue> { ["ctx"] = ctx },
    };

    private static void Measure(string name, int iterations, Func<int, string> run)
    {
        var warmup = Math.Max(iterations / 5, 3);
        for (var i = 0; i < warmup; i++)
        {
            run(i);
        }
        GC.Collect();
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var samples = new double[iterations];
        var total = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++)
        {
            var start = Stopwatch.GetTimestamp();
            run(i);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }
        total.Stop();
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        // On a shared machine the mean is dominated by preemption; the best mean over batches of 50 is the stable figure.
        var batch = Math.Min(50, iterations);
        var best = double.MaxValue;
        for (var b = 0; b + batch <= iterations; b += batch)
        {
            best = Math.Min(best, samples.Skip(b).Take(batch).Average());
        }
        Array.Sort(samples);
        var mean = total.Elapsed.TotalMicroseconds / iterations;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-55} n={iterations,6}  median {Format(samples[iterations / 2])}  best-batch mean {Format(best)}  mean {Format(mean)}  p99 {Format(samples[(int)(iterations * 0.99)])}  alloc {allocated / iterations / 1024.0:F1} KiB/op"));
    }

    private static string Format(double micros) => micros >= 10000
        ? (micros / 1000).ToString("F1", CultureInfo.InvariantCulture) + " ms"
        : micros.ToString("F1", CultureInfo.InvariantCulture) + " µs";

    private static string Context(string flowId) => $$"""
        {
          "flow": {
            "id": "{{flowId}}",
            "type": "browser",
            "expires_at": "2026-11-26T23:30:00Z",
            "issued_at": "2026-11-26T23:00:00Z",
            "request_url": "https://auth.example.com/self-service/registration/browser?return_to=https%3A%2F%2Fapp.example.com",
            "active": "password",
            "ui": { "action": "https://auth.example.com/self-service/registration?flow={{flowId}}", "method": "POST" }
          },
          "identity": {
            "id": "0193a1c2-7f3e-7b4a-9d2e-5c8f1a2b3c4d",
            "schema_id": "default",
            "schema_url": "https://auth.example.com/schemas/ZGVmYXVsdA",
            "state": "active",
            "traits": {
              "email": "jane.doe@example.com",
              "name": { "first": "Jane", "last": "Doe" },
              "phone": "+15555550123",
              "tags": ["beta", "newsletter", "eu"]
            },
            "verifiable_addresses": [
              { "id": "0193a1c2-0001", "value": "jane.doe@example.com", "verified": false, "via": "email", "status": "sent" }
            ],
            "recovery_addresses": [ { "id": "0193a1c2-0002", "value": "jane.doe@example.com", "via": "email" } ],
            "metadata_public": { "plan": "pro", "seats": 5, "referrer": "partner-42" },
            "created_at": "2026-11-26T23:00:01.123456Z",
            "updated_at": "2026-11-26T23:00:01.123456Z"
          },
          "request_headers": {
            "Accept": ["application/json"],
            "Accept-Language": ["en-US,en;q=0.9"],
            "User-Agent": ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"],
            "X-Forwarded-For": ["203.0.113.7"],
            "Cookie": ["csrf_token_abc=xyz123; ory_session=redacted"],
            "Content-Type": ["application/x-www-form-urlencoded"]
          },
          "request_method": "POST",
          "request_url": "https://auth.example.com/self-service/registration?flow={{flowId}}",
          "request_cookies": { "csrf_token_abc": "xyz123" },
          "transient_payload": { "consent": true, "source": "landing-page", "utm": { "campaign": "winter", "medium": "email" } }
        }
        """;
}
