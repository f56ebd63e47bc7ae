using Gatehouse.Hashing.Calibration;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Hashing;

/// <summary>
/// The algorithm behind <c>hashers argon2 calibrate</c> and <c>load-test</c>, on a fake clock with a fake cost model: a
/// hash "takes" fake time (by default a millisecond per MiB of memory per iteration) and the heap reads what the test
/// says. Every wait is a fake timer, so advancing the clock runs the whole algorithm on the test's thread.
/// </summary>
public sealed class Argon2BenchmarkTests
{
    private const long MiB = 1024 * 1024;

    private static readonly TimeSpan HalfSecond = TimeSpan.FromMilliseconds(500);

    private static Argon2Parameters Parameters(long memory = 128 * MiB, int iterations = 1, long dedicated = 1024 * MiB) =>
        new(memory, iterations, Parallelism: 1, SaltLength: 16, KeyLength: 32, HalfSecond, HalfSecond, dedicated);

    /// <summary>A millisecond of fake time per MiB per iteration: 128 MiB at one iteration take 128 ms.</summary>
    private static TimeSpan PerMiB(Argon2Parameters p) => TimeSpan.FromMilliseconds(p.Memory / MiB * p.Iterations);

    /// <summary>The fake hasher: each hash waits its cost on the fake clock; it counts the hashes and those in flight.</summary>
    private sealed class FakeHashing(FakeTimeProvider time, Func<Argon2Parameters, int, TimeSpan> cost)
    {
        public int Calls { get; private set; }

        public int InFlight { get; private set; }

        public List<Argon2Parameters> Hashed { get; } = [];

        public async Task Hash(Argon2Parameters parameters, CancellationToken cancellationToken)
        {
            var duration = cost(parameters, Calls++);
            Hashed.Add(parameters);
            InFlight++;
            try
            {
                await Task.Delay(duration, time, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                InFlight--;
            }
        }
    }

    private sealed class FakeHeap(Func<long> bytes) : IHeapProbe
    {
        public int Collections { get; private set; }

        public void Collect() => Collections++;

        public long AllocatedBytes() => bytes();
    }

    /// <summary>Spreads a load test's requests as the test says (milliseconds into the sample), in turn.</summary>
    private sealed class ScriptedRandom(params int[] milliseconds) : Random
    {
        private int _next;

        public override int Next(int maxValue) => milliseconds[_next++ % milliseconds.Length] % maxValue;
    }

    private sealed class Setup
    {
        public Setup(Func<Argon2Parameters, int, TimeSpan>? cost = null, Func<long>? heap = null, Random? random = null)
        {
            Hashing = new FakeHashing(Time, cost ?? ((p, _) => PerMiB(p)));
            Heap = new FakeHeap(heap ?? (() => 100 * MiB));
            Benchmark = new Argon2Benchmark(Time, Hashing.Hash, Heap, random ?? new Random(7), Progress);
            Started = Time.GetUtcNow();
        }

        public DateTimeOffset Started { get; }

        public TimeSpan Elapsed => Time.GetUtcNow() - Started;

        public FakeTimeProvider Time { get; } = new();

        public StringWriter Progress { get; } = new() { NewLine = "\n" };

        public StringWriter Settled { get; } = new() { NewLine = "\n" };

        public List<Argon2LoadTestResult> Printed { get; } = [];

        public FakeHashing Hashing { get; }

        public FakeHeap Heap { get; }

        public Argon2Benchmark Benchmark { get; }

        /// <summary>
        /// Starts the benchmark and moves the fake clock on a millisecond at a time (every cost and delay here is whole
        /// milliseconds) until it ends. A fake timer fires on the thread that moves the clock, and the benchmark's
        /// continuations run right there, at the timer's time, as long as that thread has no synchronization context
        /// (the test runner's would send them to the thread pool, to run at some later time). <c>SetUtcNow</c>, not
        /// <c>Advance</c>, which sleeps a millisecond each time.
        /// </summary>
        public async Task<T> Run<T>(Func<Argon2Benchmark, Task<T>> start)
        {
            var context = SynchronizationContext.Current;
            SynchronizationContext.SetSynchronizationContext(null);
            Task<T> task;
            try
            {
                task = start(Benchmark);
                for (var i = 0; i < 2_000_000 && !task.IsCompleted; i++) Time.SetUtcNow(Time.GetUtcNow() + TimeSpan.FromMilliseconds(1));
            }
            finally
            {
                SynchronizationContext.SetSynchronizationContext(context);
            }
            Assert.True(task.IsCompleted, "the benchmark still waits after 2,000 fake seconds");
            return await task;
        }

        public Task<Argon2Calibration> Calibrate(Argon2CalibrationRequest request) =>
            Run(b => b.CalibrateAsync(request, Settled, Printed.Add));

        /// <summary>The probes' summary lines ("  took …") and the phase and verdict lines, without the per-try lines.</summary>
        public List<string> Lines() => [.. Progress.ToString().Split('\n').Where(l => l.Length > 0 && !l.StartsWith("    ", StringComparison.Ordinal))];
    }

    private static Argon2CalibrationRequest Request(Argon2Parameters start, long maxMemory = 0, long adjust = 512 * MiB, int runs = 2, int requestsPerMinute = 60) =>
        new(start, requestsPerMinute, runs, maxMemory, adjust);

    [Fact]
    public async Task A_probe_hashes_its_runs_in_a_row_and_returns_their_mean_time()
    {
        var durations = new[] { 100, 300, 200 };
        var s = new Setup(cost: (_, call) => TimeSpan.FromMilliseconds(durations[call]));

        var mean = await s.Run(b => b.ProbeAsync(Parameters(), runs: 3));

        Assert.Equal(TimeSpan.FromMilliseconds(200), mean);
        Assert.Equal("    took 100ms in try 0\n    took 300ms in try 1\n    took 200ms in try 2\n", s.Progress.ToString());
        Assert.Equal(1, s.Heap.Collections);
    }

    [Fact]
    public async Task Calibration_raises_memory_until_a_probe_is_too_slow_steps_back_then_finds_the_iterations_and_accepts_a_good_load_test()
    {
        var s = new Setup();

        var outcome = await s.Calibrate(Request(Parameters()));

        Assert.Equal(
        [
            "Increasing memory to get over 500ms:",
            "  took 128ms with 128.00MB of memory",
            "  took 640ms with 640.00MB of memory",
            "Decreasing memory to get under 500ms:",
            "  took 128ms with 128.00MB of memory",
            "Increasing iterations to get over 500ms:",
            "  took 128ms with 1 iterations",
            "  took 256ms with 2 iterations",
            "  took 384ms with 3 iterations",
            "  took 512ms with 4 iterations",
            "Decreasing iterations to get under 500ms:",
            "  took 384ms with 3 iterations",
            "Running load test to simulate 60 login requests per minute.",
            "It takes about 20s to collect all necessary data, please be patient.",
            "The load test result is:",
            "The median was 116ms under the minimal duration of 500ms, going to increase the hash cost.",
            "Increasing iterations to 4",
            "Running load test to simulate 60 login requests per minute.",
            "It takes about 20s to collect all necessary data, please be patient.",
            "The load test result is:",
            "These values look good to me.",
        ], s.Lines());
        Assert.Equal("Settled on 128.00MB of memory.\nSettled on 3 iterations.\n", s.Settled.ToString());
        Assert.Equal(Parameters(iterations: 4), outcome.Chosen);
        Assert.Equal([Parameters(iterations: 3), Parameters(iterations: 4)], outcome.Measurements.Select(m => m.Parameters));
        Assert.Equal(outcome.Measurements.Select(m => m.Result), s.Printed);
        // Each load test: a third of 60 requests a minute, every one measured at its fake cost.
        Assert.Equal(TimeSpan.FromMilliseconds(384), s.Printed[0].MedianTime);
        Assert.Equal(TimeSpan.FromMilliseconds(512), s.Printed[1].MaxTime);
        Assert.Equal(8 * 2 + 2 * 20, s.Hashing.Calls);
    }

    [Fact]
    public async Task Memory_comes_down_step_by_step_halving_the_step_rather_than_going_under_zero()
    {
        var s = new Setup();

        var outcome = await s.Calibrate(Request(Parameters(memory: 2048 * MiB)));

        // 2 GiB is too slow at once: one step back, then down until under 500ms; at 512 MiB the 512 MiB step would
        // leave nothing (Kratos's unsigned memory would wrap), so it is halved.
        Assert.Equal(
        [
            "Increasing memory to get over 500ms:",
            "  took 2.048s with 2.00GB of memory",
            "Decreasing memory to get under 500ms:",
            "  took 1.536s with 1.50GB of memory",
            "  took 1.024s with 1.00GB of memory",
            "  took 512ms with 512.00MB of memory",
            "  took 256ms with 256.00MB of memory",
            "Increasing iterations to get over 500ms:",
        ], s.Lines().TakeWhile(l => !l.StartsWith("  took 256ms with 1 iterations", StringComparison.Ordinal)));
        Assert.StartsWith("Settled on 256.00MB of memory.\n", s.Settled.ToString());
        Assert.Equal(Parameters(memory: 256 * MiB, iterations: 2), outcome.Chosen);
    }

    [Fact]
    public async Task Memory_stops_at_max_memory()
    {
        var s = new Setup();

        var outcome = await s.Calibrate(Request(Parameters(), maxMemory: 256 * MiB));

        Assert.Equal(
        [
            "Increasing memory to get over 500ms:",
            "  took 128ms with 128.00MB of memory",
            "  ouch, hit the memory limit there",
            "Decreasing memory to get under 500ms:",
            "  took 256ms with 256.00MB of memory",
        ], s.Lines().Take(5));
        Assert.StartsWith("Settled on 256.00MB of memory.\n", s.Settled.ToString());
        // The load tests then add 64 MB at a time while the heap (100 MiB) plus 64 MB stays under the limit: Kratos
        // compares the heap, not the parameter, with --max-memory.
        Assert.Equal([256 * MiB, 320 * MiB, 384 * MiB, 448 * MiB, 512 * MiB], outcome.Measurements.Select(m => m.Parameters.Memory));
        Assert.Equal(512 * MiB, outcome.Chosen!.Memory);
    }

    [Fact]
    public async Task Iterations_come_down_one_at_a_time_while_probes_stay_slow_and_stop_at_one()
    {
        // A machine that gets busier: the probes of the iterations take what the script says, then the model's time.
        var script = new[] { 100, 700, 100, 100, 200, 300, 600, 550, 520, 510 };
        var s = new Setup(cost: (p, call) => call < script.Length ? TimeSpan.FromMilliseconds(script[call]) : PerMiB(p) * 4);

        var outcome = await s.Calibrate(Request(Parameters(), runs: 1));

        Assert.Equal(
        [
            "Increasing memory to get over 500ms:",
            "  took 100ms with 128.00MB of memory",
            "  took 700ms with 640.00MB of memory",
            "Decreasing memory to get under 500ms:",
            "  took 100ms with 128.00MB of memory",
            "Increasing iterations to get over 500ms:",
            "  took 100ms with 1 iterations",
            "  took 200ms with 2 iterations",
            "  took 300ms with 3 iterations",
            "  took 600ms with 4 iterations",
            "Decreasing iterations to get under 500ms:",
            "  took 550ms with 3 iterations",
            "  took 520ms with 2 iterations",
            "  took 510ms with 1 iterations",
            "Running load test to simulate 60 login requests per minute.",
        ], s.Lines().Take(15));
        Assert.Equal("Settled on 128.00MB of memory.\nSettled on 1 iterations.\n", s.Settled.ToString());
        Assert.Equal(Parameters(iterations: 1), outcome.Measurements[0].Parameters);
    }

    [Fact]
    public async Task A_calibration_gives_up_after_five_load_tests_and_keeps_every_measurement()
    {
        // The heap stays above the 1 GiB dedicated memory (but under the 110 % that stops a load test), so after the
        // first test (too fast) every one asks for less memory, and none is good.
        var s = new Setup(heap: () => 1100 * MiB);

        var outcome = await s.Calibrate(Request(Parameters()));

        Assert.Null(outcome.Chosen);
        Assert.Equal(Argon2Benchmark.LoadTestRounds, outcome.Measurements.Count);
        Assert.Equal(5, s.Printed.Count);
        var verdicts = s.Lines().Where(l => l.StartsWith("The median", StringComparison.Ordinal) || l.StartsWith("The required memory", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, verdicts.Count);
        Assert.StartsWith("The median was 116ms under", verdicts[0]);
        Assert.Equal("The required memory was 76.00MB more than the maximum allowed of 1.00GB.", verdicts[1]);
        Assert.DoesNotContain("These values look good to me.", s.Progress.ToString());
        // The memory goes down by the excess over the requests per minute: 76 MiB / 60.
        Assert.Equal(128 * MiB - 76 * MiB / 60, outcome.Measurements[2].Parameters.Memory);
        Assert.All(outcome.Measurements, m => Assert.Equal(1100 * MiB, m.Result.MemoryUsed));
    }

    private static Argon2LoadTestResult Result(int median = 600, int deviation = 100, int max = 900, long memory = 200 * MiB) =>
        new(TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(median), TimeSpan.FromMilliseconds(deviation), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(max), memory);

    private static (Argon2Parameters? Next, string Said) Judge(Argon2LoadTestResult result, Argon2Parameters current, long maxMemory = 0)
    {
        var progress = new StringWriter();
        var next = Argon2Benchmark.Judge(result, current, 60, maxMemory, progress);
        return (next, progress.ToString());
    }

    [Fact]
    public void Too_fast_adds_an_iteration_without_a_memory_limit_as_kratos_does()
    {
        var (next, said) = Judge(Result(median: 450), Parameters(iterations: 2));

        Assert.Equal(Parameters(iterations: 3), next);
        Assert.Equal("The median was 50ms under the minimal duration of 500ms, going to increase the hash cost.\nIncreasing iterations to 3\n", said);
    }

    [Fact]
    public void Too_fast_adds_64_MB_of_memory_while_the_heap_stays_under_the_memory_limit()
    {
        var (more, said) = Judge(Result(median: 450, memory: 200 * MiB), Parameters(), maxMemory: 265 * MiB);
        Assert.Equal(Parameters(memory: 192 * MiB), more);
        Assert.EndsWith("Increasing memory to 192.00MB\n", said);

        // 200 MiB heap + 64 MiB is not under a 264 MiB limit: an iteration instead.
        var (iteration, _) = Judge(Result(median: 450, memory: 200 * MiB), Parameters(), maxMemory: 264 * MiB);
        Assert.Equal(Parameters(iterations: 2), iteration);
    }

    [Fact]
    public void Too_much_memory_takes_the_excess_over_the_requests_per_minute_off_the_memory()
    {
        var (next, said) = Judge(Result(memory: 1084 * MiB), Parameters());

        Assert.Equal(Parameters(memory: 127 * MiB), next);
        Assert.Equal("The required memory was 60.00MB more than the maximum allowed of 1.00GB.\nDecreasing memory to 127.00MB\n", said);
    }

    [Fact]
    public void Too_slow_takes_an_iteration_off_or_at_one_iteration_64_MB()
    {
        var (fewer, said) = Judge(Result(max: 1200), Parameters(iterations: 3));
        Assert.Equal(Parameters(iterations: 2), fewer);
        Assert.Equal("The longest request took 200ms longer than the longest acceptable time of 1s, going to decrease the hash cost.\nDecreasing iterations to 2\n", said);

        var (less, saidAtOne) = Judge(Result(max: 1200), Parameters(iterations: 1));
        Assert.Equal(Parameters(memory: 64 * MiB), less);
        Assert.EndsWith("Decreasing memory to 64.00MB\n", saidAtOne);

        // Never under 1 KiB, where Kratos's unsigned memory would wrap.
        var (floor, _) = Judge(Result(max: 1200), Parameters(memory: 8 * 1024));
        Assert.Equal(Argon2Parameters.MinMemory, floor!.Memory);
    }

    [Fact]
    public void Too_high_a_deviation_lowers_the_cost()
    {
        var (next, said) = Judge(Result(deviation: 700), Parameters(iterations: 2));

        Assert.Equal(Parameters(iterations: 1), next);
        Assert.Equal("The deviation was 200ms more than the expected deviation of 500ms.\nDecreasing iterations to 1\n", said);
    }

    [Fact]
    public void The_verdicts_come_in_kratos_order_and_a_test_that_passes_all_is_good()
    {
        // Too fast wins over too much memory, which wins over too slow, which wins over the deviation.
        Assert.StartsWith("The median", Judge(Result(median: 400, memory: 2048 * MiB, max: 5000, deviation: 900), Parameters()).Said);
        Assert.StartsWith("The required memory", Judge(Result(memory: 2048 * MiB, max: 5000, deviation: 900), Parameters()).Said);
        Assert.StartsWith("The longest request", Judge(Result(max: 5000, deviation: 900), Parameters()).Said);

        var (next, said) = Judge(Result(median: 500, deviation: 500, max: 1000, memory: 1024 * MiB), Parameters());
        Assert.Null(next);
        Assert.Equal("These values look good to me.\n\n", said);
    }

    [Fact]
    public void The_statistics_are_the_median_population_deviation_minimum_maximum_and_largest_heap()
    {
        var times = new[] { 400, 100, 300, 200 }.Select(ms => TimeSpan.FromMilliseconds(ms)).ToList();

        var result = Argon2LoadTestResult.Summarize(TimeSpan.FromSeconds(21), times, [5 * MiB, 9 * MiB, 7 * MiB]);

        Assert.Equal(TimeSpan.FromSeconds(21), result.TotalTime);
        Assert.Equal(TimeSpan.FromMilliseconds(250), result.MedianTime);
        // sqrt(((150² + 50²) · 2) / 4) ms = sqrt(12500) ms
        Assert.Equal(TimeSpan.FromTicks((long)(Math.Sqrt(12_500) * TimeSpan.TicksPerMillisecond)), result.StandardDeviation);
        Assert.Equal(TimeSpan.FromMilliseconds(100), result.MinTime);
        Assert.Equal(TimeSpan.FromMilliseconds(400), result.MaxTime);
        Assert.Equal(9 * MiB, result.MemoryUsed);

        Assert.Equal(TimeSpan.FromMilliseconds(300), Argon2LoadTestResult.Summarize(TimeSpan.Zero, times.Take(3).ToList(), []).MedianTime);
        Assert.Equal(new Argon2LoadTestResult(TimeSpan.FromSeconds(1), TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, 0), Argon2LoadTestResult.Summarize(TimeSpan.FromSeconds(1), [], []));
    }

    [Fact]
    public async Task A_load_test_spreads_a_third_of_the_rate_over_20_seconds_and_measures_each_request()
    {
        // 60 a minute: 20 requests, one a second; request i takes (i + 1) · 100 ms; the heap grows a MiB a second.
        var heap = 0L;
        var s = new Setup(
            cost: (_, call) => TimeSpan.FromMilliseconds((call + 1) * 100),
            heap: () => heap += MiB,
            random: new ScriptedRandom([.. Enumerable.Range(0, 20).Select(i => i * 1000)]));

        var result = await s.Run(b => b.LoadTestAsync(Parameters(), 60));

        Assert.Equal(20, s.Hashing.Calls);
        Assert.Equal("It takes about 20s to collect all necessary data, please be patient.\n", s.Progress.ToString());
        Assert.Equal(TimeSpan.FromMilliseconds(1050), result.MedianTime);
        Assert.Equal(TimeSpan.FromMilliseconds(100), result.MinTime);
        Assert.Equal(TimeSpan.FromMilliseconds(2000), result.MaxTime);
        // The standard deviation of 100, 200, …, 2000 ms: 100 ms · sqrt((20² − 1) / 12).
        Assert.Equal(TimeSpan.FromTicks((long)(100 * Math.Sqrt(399.0 / 12) * TimeSpan.TicksPerMillisecond)), result.StandardDeviation);
        // The last request starts at 19 s and takes 2 s; the heap was read at 1 s, 2 s, … 20 s.
        Assert.Equal(TimeSpan.FromSeconds(21), result.TotalTime);
        Assert.Equal(20 * MiB, result.MemoryUsed);
        Assert.Equal(1, s.Heap.Collections);
    }

    [Fact]
    public async Task A_load_test_stops_when_it_takes_more_than_110_percent_of_its_time()
    {
        // The sample plus 500ms + 500ms is 21 s; the test stops at the first tick after 23.1 s: a request started at
        // 19 s takes 10 s. The heap reads 5 MiB.
        var s = new Setup(cost: (_, _) => TimeSpan.FromSeconds(10), heap: () => 5 * MiB, random: new ScriptedRandom(0, 19_000));

        var failure = await Assert.ThrowsAsync<Argon2BenchmarkException>(() => s.Run(b => b.LoadTestAsync(Parameters(), 6)));

        Assert.Equal("The hashing load test took too long. This indicates that you don't have enough resources to handle 6 login requests per minute with the desired minimal time of 500ms. The memory used was 5.00MB. Either dedicate more CPU/memory, or decrease the hashing cost (memory and iterations parameters).", failure.Message);
        Assert.Equal(TimeSpan.FromSeconds(24), s.Elapsed);
        Assert.Equal(2, s.Hashing.Calls);
    }

    [Fact]
    public async Task A_load_test_stops_when_the_heap_exceeds_110_percent_of_the_dedicated_memory()
    {
        var heap = 1100 * MiB;
        var s = new Setup(heap: () => heap += 20 * MiB, random: new ScriptedRandom(0, 10_000));

        var failure = await Assert.ThrowsAsync<Argon2BenchmarkException>(() => s.Run(b => b.LoadTestAsync(Parameters(), 6)));

        // 1120 MiB at 1 s is within 110 % of 1 GiB (1126.4 MiB); 1140 MiB at 2 s is not.
        Assert.Equal("The hashing load test exceeded the memory limit of 1.00GB. This indicates that you don't have enough resources to handle 6 login requests per minute with the desired minimal time of 500ms. Either dedicate more memory, or decrease the hashing cost (memory and iterations parameters).", failure.Message);
        Assert.Equal(TimeSpan.FromSeconds(2), s.Elapsed);
        Assert.Equal(1, s.Hashing.Calls);
    }

    [Fact]
    public async Task A_failing_hash_fails_the_load_test()
    {
        var s = new Setup(cost: (_, _) => throw new InvalidOperationException("no memory"));

        var failure = await Assert.ThrowsAsync<Argon2BenchmarkException>(() => s.Run(b => b.LoadTestAsync(Parameters(), 6)));

        Assert.Equal("Error during hashing: no memory", failure.Message);
    }

    [Theory]
    [InlineData(0, "0.00B")]
    [InlineData(1023, "1023.00B")]
    [InlineData(1024, "1.00KB")]
    [InlineData(1152, "1.12KB")] // 1.125: a tie, rounded to even as Go's %.2f does
    [InlineData(1160, "1.13KB")]
    [InlineData(128L * 1024 * 1024, "128.00MB")]
    [InlineData(1024L * 1024 * 1024, "1.00GB")]
    [InlineData(1100L * 1024 * 1024, "1.07GB")]
    public void Sizes_print_as_go_bytesize_prints_them(long bytes, string expected) => Assert.Equal(expected, KratosFormat.Size(bytes));
}
