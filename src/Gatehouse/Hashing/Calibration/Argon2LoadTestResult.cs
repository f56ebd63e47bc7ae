using System.Text.Json.Nodes;
using Gatehouse.Config;

namespace Gatehouse.Hashing.Calibration;

/// <summary>
/// What a load test measured (Kratos's <c>resultTable</c>, <c>cmd/hashers/argon2/loadtest.go</c>): how long the whole
/// sample took, the requests' median, standard deviation, fastest and slowest time, and the most heap memory seen.
/// </summary>
public sealed record Argon2LoadTestResult(
    TimeSpan TotalTime,
    TimeSpan MedianTime,
    TimeSpan StandardDeviation,
    TimeSpan MinTime,
    TimeSpan MaxTime,
    long MemoryUsed)
{
    /// <summary>
    /// Kratos's header, its spelling included: <c>MEMOry USED</c> is what <c>kratos hashers argon2 load-test</c> prints,
    /// and scripts that read the table may match it.
    /// </summary>
    public static IReadOnlyList<string> Header { get; } =
        ["TOTAL SAMPLE TIME", "MEDIAN REQUEST TIME", "STANDARD DEVIATION", "MIN REQUEST TIME", "MAX REQUEST TIME", "MEMOry USED"];

    /// <summary>
    /// The statistics over the request times: the median (the middle time, or the mean of the two middle ones), the
    /// population standard deviation, the minimum and the maximum; the memory is the largest sample. No request (or no
    /// sample) gives zero, where Kratos prints "Unexpected maths error" and zero.
    /// </summary>
    public static Argon2LoadTestResult Summarize(TimeSpan totalTime, IReadOnlyCollection<TimeSpan> requestTimes, IReadOnlyCollection<long> memorySamples)
    {
        ArgumentNullException.ThrowIfNull(requestTimes);
        ArgumentNullException.ThrowIfNull(memorySamples);
        var memory = memorySamples.Count == 0 ? 0 : memorySamples.Max();
        if (requestTimes.Count == 0) return new(totalTime, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, memory);
        var sorted = requestTimes.Select(t => (double)t.Ticks).Order().ToArray();
        var middle = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        var mean = sorted.Average();
        var deviation = Math.Sqrt(sorted.Sum(t => (t - mean) * (t - mean)) / sorted.Length);
        // Truncated to whole ticks, as Kratos truncates its float statistics to whole nanoseconds.
        return new(totalTime, TimeSpan.FromTicks((long)median), TimeSpan.FromTicks((long)deviation),
            TimeSpan.FromTicks((long)sorted[0]), TimeSpan.FromTicks((long)sorted[^1]), memory);
    }

    /// <summary>The table's values, as Go prints them.</summary>
    public IReadOnlyList<string> Columns() =>
    [
        GoDuration.ToGoString(TotalTime),
        GoDuration.ToGoString(MedianTime),
        GoDuration.ToGoString(StandardDeviation),
        GoDuration.ToGoString(MinTime),
        GoDuration.ToGoString(MaxTime),
        KratosFormat.Size(MemoryUsed),
    ];

    /// <summary>Kratos's JSON: durations in nanoseconds, the memory in bytes.</summary>
    public JsonObject ToJson() => new()
    {
        ["total_time"] = KratosFormat.Nanoseconds(TotalTime),
        ["median_request_time"] = KratosFormat.Nanoseconds(MedianTime),
        ["std_deviation"] = KratosFormat.Nanoseconds(StandardDeviation),
        ["min_request_time"] = KratosFormat.Nanoseconds(MinTime),
        ["max_request_time"] = KratosFormat.Nanoseconds(MaxTime),
        ["mem_used"] = MemoryUsed,
    };
}
