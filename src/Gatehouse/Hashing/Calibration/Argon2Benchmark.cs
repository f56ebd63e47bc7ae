using Gatehouse.Config;

namespace Gatehouse.Hashing.Calibration;

/// <summary>
/// Hashes one password with <paramref name="parameters"/>. The task may ignore <paramref name="cancellationToken"/> (a
/// hash in progress cannot be stopped); the benchmark stops waiting for it when the token is cancelled.
/// </summary>
public delegate Task Argon2HashFunction(Argon2Parameters parameters, CancellationToken cancellationToken);

/// <summary>
/// The measuring behind <c>gatehouse hashers argon2 calibrate</c> and <c>load-test</c>, with Kratos's algorithm and
/// messages (<c>cmd/hashers/argon2/calibrate.go</c>, <c>loadtest.go</c>): a probe times a few hashes in a row; a load
/// test spreads a third of a minute's logins at random over 20 seconds, all hashing at once, and reports their times and
/// the heap; the calibration probes memory, then iterations, up to and back under the expected duration, then runs up to
/// five load tests, adjusting the cost after each.
/// <para>
/// Time, hashing and the heap are given, so tests drive the whole algorithm with a fake clock and a fake cost model. Every
/// wait is a timer of the <see cref="TimeProvider"/>, and no continuation asks for a context: on a thread without a
/// synchronization context, one that a fake timer completes runs right there, at the fake time.
/// </para>
/// </summary>
public sealed class Argon2Benchmark
{
    /// <summary>How long a load test spreads its requests over (Kratos's <c>sampleTime</c>: a third of a minute).</summary>
    public static readonly TimeSpan SampleTime = TimeSpan.FromMinutes(1) / 3;

    /// <summary>The load tests a calibration runs at most before it gives up.</summary>
    public const int LoadTestRounds = 5;

    /// <summary>The memory a load test's verdict adds or takes away: 64 MB.</summary>
    public const long MemoryStep = 64L * 1024 * 1024;

    /// <summary>What is hashed, as in Kratos.</summary>
    public const string Password = "password";

    /// <summary>How often a load test samples the heap and checks its time.</summary>
    private static readonly TimeSpan MonitorPeriod = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly Argon2HashFunction _hash;
    private readonly IHeapProbe _heap;
    private readonly Random _random;
    private readonly TextWriter _progress;

    /// <param name="time">The clock every measurement and wait uses.</param>
    /// <param name="hash">Hashes one password.</param>
    /// <param name="heap">Collects garbage before a measurement and reads the heap during a load test.</param>
    /// <param name="random">Spreads a load test's requests.</param>
    /// <param name="progress">Kratos's progress lines (standard error; <see cref="TextWriter.Null"/> with <c>--quiet</c>).</param>
    public Argon2Benchmark(TimeProvider time, Argon2HashFunction hash, IHeapProbe heap, Random random, TextWriter progress)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(hash);
        ArgumentNullException.ThrowIfNull(heap);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(progress);
        _time = time;
        _hash = hash;
        _heap = heap;
        _random = random;
        _progress = progress;
    }

    /// <summary>Hashes <paramref name="runs"/> times in a row and returns the mean time (Kratos's <c>probe</c>).</summary>
    /// <exception cref="Argon2BenchmarkException">A hash failed.</exception>
    public async Task<TimeSpan> ProbeAsync(Argon2Parameters parameters, int runs, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        _heap.Collect();
        var start = _time.GetTimestamp();
        for (var i = 0; i < runs; i++)
        {
            var attempt = _time.GetTimestamp();
            try
            {
                await _hash(parameters, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new Argon2BenchmarkException($"Could not generate a hash: {e.Message}", e);
            }
            Progress($"    took {Go(_time.GetElapsedTime(attempt))} in try {i}\n");
        }
        return TimeSpan.FromTicks(_time.GetElapsedTime(start).Ticks / runs);
    }

    /// <summary>
    /// Simulates <paramref name="requestsPerMinute"/> logins a minute (Kratos's <c>runLoadTest</c>): a third of them, each
    /// starting at a random moment of <see cref="SampleTime"/> and all hashing at once. Every second the heap is sampled;
    /// the test stops when it has taken more than 110 % of <see cref="SampleTime"/> plus the expected duration and
    /// deviation, or the heap holds more than 110 % of the dedicated memory.
    /// </summary>
    /// <exception cref="Argon2BenchmarkException">The test stopped for time or memory, or a hash failed.</exception>
    public async Task<Argon2LoadTestResult> LoadTestAsync(Argon2Parameters parameters, int requestsPerMinute, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _heap.Collect();
        var requests = Math.Max(0, requestsPerMinute / (int)(TimeSpan.FromMinutes(1) / SampleTime));
        Progress($"It takes about {Go(SampleTime)} to collect all necessary data, please be patient.\n");

        // Kratos's bounds, computed as it computes them: a hundredth first, then 110 of those.
        var timeLimit = TimeSpan.FromTicks((SampleTime + parameters.ExpectedDuration + parameters.ExpectedDeviation).Ticks / 100 * 110);
        var memoryLimit = parameters.DedicatedMemory / 100 * 110;

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Completed by the monitor, so the test ends at once when it is stopped, not when every request has noticed.
        var stopped = new TaskCompletionSource();
        var gate = new object();
        var samples = new List<long>();
        string? exceeded = null;
        var finished = false;
        var start = _time.GetTimestamp();

        void Check(object? state)
        {
            lock (gate)
            {
                if (finished || exceeded is not null) return;
                if (_time.GetElapsedTime(start) > timeLimit)
                {
                    exceeded = "time";
                }
                else
                {
                    var heap = _heap.AllocatedBytes();
                    if (heap > memoryLimit) exceeded = "memory";
                    else samples.Add(heap);
                }
                if (exceeded is null) return;
            }
            stopped.TrySetResult();
            try
            {
                stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // A real timer's last tick can race the end of the test; there is nothing left to stop.
            }
        }

        var times = new TimeSpan[requests];
        // Drawn here, on one thread: Random is not thread-safe.
        var delays = Enumerable.Range(0, requests).Select(_ => TimeSpan.FromMilliseconds(_random.Next((int)SampleTime.TotalMilliseconds))).ToArray();

        async Task Request(int i)
        {
            try
            {
                await Task.Delay(delays[i], _time, stop.Token).ConfigureAwait(false);
                var begin = _time.GetTimestamp();
                await _hash(parameters, stop.Token).WaitAsync(stop.Token).ConfigureAwait(false);
                times[i] = _time.GetElapsedTime(begin);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Kratos's requests simply end when the test is stopped; a hash in progress runs on unobserved.
            }
        }

        Task all;
        using (_time.CreateTimer(Check, null, MonitorPeriod, MonitorPeriod))
        {
            all = Task.WhenAll(Enumerable.Range(0, requests).Select(Request));
            await Task.WhenAny(all, stopped.Task).ConfigureAwait(false);
            lock (gate) finished = true;
        }
        var total = _time.GetElapsedTime(start);
        cancellationToken.ThrowIfCancellationRequested();

        switch (exceeded)
        {
            case "time":
                throw new Argon2BenchmarkException(
                    $"The hashing load test took too long. This indicates that you don't have enough resources to handle {requestsPerMinute} login requests per minute with the desired minimal time of {Go(parameters.ExpectedDuration)}. The memory used was {KratosFormat.Size(samples.Count == 0 ? 0 : samples.Max())}. Either dedicate more CPU/memory, or decrease the hashing cost (memory and iterations parameters).");
            case "memory":
                throw new Argon2BenchmarkException(
                    $"The hashing load test exceeded the memory limit of {KratosFormat.Size(parameters.DedicatedMemory)}. This indicates that you don't have enough resources to handle {requestsPerMinute} login requests per minute with the desired minimal time of {Go(parameters.ExpectedDuration)}. Either dedicate more memory, or decrease the hashing cost (memory and iterations parameters).");
        }
        // Not stopped, so every request has ended.
        if (all.Exception?.InnerException is { } failure) throw new Argon2BenchmarkException($"Error during hashing: {failure.Message}", failure);
        return Argon2LoadTestResult.Summarize(total, times, samples);
    }

    /// <summary>
    /// Kratos's <c>calibrate</c>: memory is raised by <see cref="Argon2CalibrationRequest.AdjustMemoryBy"/> until a probe
    /// takes longer than the expected duration (or the memory limit is hit), then lowered until one is faster; then
    /// iterations the same way, one at a time. Up to <see cref="LoadTestRounds"/> load tests follow, each judged by
    /// <see cref="Judge"/>; the first one found good ends the calibration with its parameters.
    /// <para>
    /// Memory never goes under 1 KiB, which Gatehouse's argon2 needs (<see cref="Argon2Parameters.MinMemory"/>): where
    /// Kratos's unsigned arithmetic would wrap below zero, the step is halved until it fits, or the memory stays at 1 KiB.
    /// </para>
    /// </summary>
    /// <param name="request">Where to start and how to step.</param>
    /// <param name="settled">Kratos's "Settled on …" lines (green on a terminal).</param>
    /// <param name="loadTestMeasured">Each load test's result, as it comes (Kratos prints it on standard output).</param>
    /// <param name="cancellationToken">Stops the calibration.</param>
    /// <exception cref="Argon2BenchmarkException">A load test stopped for time or memory, or a hash failed.</exception>
    public async Task<Argon2Calibration> CalibrateAsync(Argon2CalibrationRequest request, TextWriter settled, Action<Argon2LoadTestResult> loadTestMeasured, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(settled);
        ArgumentNullException.ThrowIfNull(loadTestMeasured);
        ArgumentOutOfRangeException.ThrowIfLessThan(request.AdjustMemoryBy, 1);
        var current = request.Start;
        var desired = current.ExpectedDuration;
        var adjust = request.AdjustMemoryBy;
        var maxMemory = request.MaxMemory;
        TimeSpan took;

        Progress($"Increasing memory to get over {Go(desired)}:\n");
        while (true)
        {
            if (maxMemory != 0 && current.Memory > maxMemory)
            {
                Progress("  ouch, hit the memory limit there\n");
                current = current with { Memory = maxMemory };
                break;
            }
            took = await ProbeAsync(current, request.ProbeRuns, cancellationToken).ConfigureAwait(false);
            Progress($"  took {Go(took)} with {KratosFormat.Size(current.Memory)} of memory\n");
            if (took > desired)
            {
                current = current with { Memory = StepDown(current.Memory, ref adjust) };
                break;
            }
            current = current with { Memory = current.Memory + adjust };
        }

        Progress($"Decreasing memory to get under {Go(desired)}:\n");
        while (true)
        {
            took = await ProbeAsync(current, request.ProbeRuns, cancellationToken).ConfigureAwait(false);
            Progress($"  took {Go(took)} with {KratosFormat.Size(current.Memory)} of memory\n");
            // At 1 KiB there is nothing left to take; the iterations below may still get it under.
            if (took < desired || current.Memory <= Argon2Parameters.MinMemory) break;
            current = current with { Memory = StepDown(current.Memory, ref adjust) };
        }
        settled.Write($"Settled on {KratosFormat.Size(current.Memory)} of memory.\n");

        Progress($"Increasing iterations to get over {Go(desired)}:\n");
        while (true)
        {
            took = await ProbeAsync(current, request.ProbeRuns, cancellationToken).ConfigureAwait(false);
            Progress($"  took {Go(took)} with {current.Iterations} iterations\n");
            if (took > desired)
            {
                if (current.Iterations > 1) current = current with { Iterations = current.Iterations - 1 };
                break;
            }
            current = current with { Iterations = current.Iterations + 1 };
        }

        Progress($"Decreasing iterations to get under {Go(desired)}:\n");
        while (true)
        {
            took = await ProbeAsync(current, request.ProbeRuns, cancellationToken).ConfigureAwait(false);
            Progress($"  took {Go(took)} with {current.Iterations} iterations\n");
            // One iteration also ends it: it may have been only just under the duration before and a little over now.
            if (took < desired || current.Iterations == 1) break;
            current = current with { Iterations = current.Iterations - 1 };
        }
        settled.Write($"Settled on {current.Iterations} iterations.\n");

        var measurements = new List<Argon2Measurement>();
        for (var round = 0; round < LoadTestRounds; round++)
        {
            Progress($"\nRunning load test to simulate {request.RequestsPerMinute} login requests per minute.\n");
            var result = await LoadTestAsync(current, request.RequestsPerMinute, cancellationToken).ConfigureAwait(false);
            measurements.Add(new Argon2Measurement(result, current));
            Progress("The load test result is:\n\n");
            loadTestMeasured(result);

            if (Judge(result, current, request.RequestsPerMinute, maxMemory, _progress) is not { } next)
            {
                return new Argon2Calibration(current, measurements);
            }
            current = next;
        }
        return new Argon2Calibration(null, measurements);
    }

    /// <summary>
    /// Kratos's verdict on a calibration's load test, its progress lines written to <paramref name="progress"/>: the
    /// parameters to try next, or null when <paramref name="current"/> is good. In order: too fast (median under the
    /// expected duration: 64 MB more memory while the heap plus that stays under <paramref name="maxMemory"/>, else one
    /// more iteration; with no memory limit, always the iteration), too much memory (the heap over the dedicated memory:
    /// the excess divided by the requests per minute taken off the memory), too slow (the slowest request over the
    /// expected duration plus deviation), too much deviation; the last two take an iteration off, or at one iteration
    /// 64 MB of memory.
    /// <para>
    /// Kratos prints two of the amounts miscomputed: the memory excess as the heap minus <c>--max-memory</c> (the whole heap
    /// without a limit), and the slowest request's excess as <c>max - deviation + duration</c>. Gatehouse prints the
    /// excess over the dedicated memory and over <c>duration + deviation</c>; the decisions are the same.
    /// </para>
    /// </summary>
    public static Argon2Parameters? Judge(Argon2LoadTestResult result, Argon2Parameters current, int requestsPerMinute, long maxMemory, TextWriter progress)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(progress);
        ArgumentOutOfRangeException.ThrowIfLessThan(requestsPerMinute, 1);
        var duration = current.ExpectedDuration;
        var deviation = current.ExpectedDeviation;
        if (result.MedianTime < duration)
        {
            progress.Write($"The median was {Go(duration - result.MedianTime)} under the minimal duration of {Go(duration)}, going to increase the hash cost.\n");
            // Only a little more memory: the probes measured a single request, not many at once.
            if (result.MemoryUsed + MemoryStep < maxMemory)
            {
                current = current with { Memory = current.Memory + MemoryStep };
                progress.Write($"Increasing memory to {KratosFormat.Size(current.Memory)}\n");
            }
            else
            {
                current = current with { Iterations = current.Iterations + 1 };
                progress.Write($"Increasing iterations to {current.Iterations}\n");
            }
            return current;
        }
        if (result.MemoryUsed > current.DedicatedMemory)
        {
            var over = result.MemoryUsed - current.DedicatedMemory;
            progress.Write($"The required memory was {KratosFormat.Size(over)} more than the maximum allowed of {KratosFormat.Size(current.DedicatedMemory)}.\n");
            current = current with { Memory = Math.Max(Argon2Parameters.MinMemory, current.Memory - over / requestsPerMinute) };
            progress.Write($"Decreasing memory to {KratosFormat.Size(current.Memory)}\n");
            return current;
        }
        if (result.MaxTime > deviation + duration)
        {
            progress.Write($"The longest request took {Go(result.MaxTime - (deviation + duration))} longer than the longest acceptable time of {Go(deviation + duration)}, going to decrease the hash cost.\n");
            return LowerCost(current, progress);
        }
        if (result.StandardDeviation > deviation)
        {
            progress.Write($"The deviation was {Go(result.StandardDeviation - deviation)} more than the expected deviation of {Go(deviation)}.\n");
            return LowerCost(current, progress);
        }
        progress.Write("These values look good to me.\n\n");
        return null;
    }

    /// <summary>One iteration less, or at one iteration 64 MB of memory less (never under 1 KiB).</summary>
    private static Argon2Parameters LowerCost(Argon2Parameters current, TextWriter progress)
    {
        if (current.Iterations > 1)
        {
            current = current with { Iterations = current.Iterations - 1 };
            progress.Write($"Decreasing iterations to {current.Iterations}\n");
        }
        else
        {
            current = current with { Memory = Math.Max(Argon2Parameters.MinMemory, current.Memory - MemoryStep) };
            progress.Write($"Decreasing memory to {KratosFormat.Size(current.Memory)}\n");
        }
        return current;
    }

    /// <summary>The memory one step lower, the step halved until at least 1 KiB is left.</summary>
    private static long StepDown(long memory, ref long adjust)
    {
        while (adjust > 0 && memory - adjust < Argon2Parameters.MinMemory) adjust >>= 1;
        return memory - adjust;
    }

    private void Progress(string text) => _progress.Write(text);

    private static string Go(TimeSpan value) => GoDuration.ToGoString(value);
}
