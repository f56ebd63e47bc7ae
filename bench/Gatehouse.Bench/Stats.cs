using System.Globalization;

namespace Gatehouse.Bench;

/// <summary>Latency samples in milliseconds.</summary>
internal sealed class Stats(IEnumerable<double> samples)
{
    private readonly double[] _sorted = [.. samples.Order()];

    public int Count => _sorted.Length;
    public double Mean => _sorted.Length == 0 ? double.NaN : _sorted.Average();
    public double P50 => Percentile(50);
    public double P90 => Percentile(90);
    public double P99 => Percentile(99);
    public double Max => _sorted.Length == 0 ? double.NaN : _sorted[^1];

    /// <summary>Nearest-rank percentile.</summary>
    public double Percentile(double p)
    {
        if (_sorted.Length == 0) return double.NaN;
        var rank = (int)Math.Ceiling(p / 100 * _sorted.Length);
        return _sorted[Math.Clamp(rank - 1, 0, _sorted.Length - 1)];
    }

    public string Summary() => string.Create(CultureInfo.InvariantCulture,
        $"p50 {P50:0.000} ms, p90 {P90:0.000} ms, p99 {P99:0.000} ms, mean {Mean:0.000} ms, max {Max:0.000} ms (n={Count})");
}
