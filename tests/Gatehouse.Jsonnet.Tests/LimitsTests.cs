namespace Gatehouse.Jsonnet.Tests;

/// <summary>Hostile templates must fail with a clear error, never crash or hang the server.</summary>
public sealed class LimitsTests
{
    [Fact]
    public void Unbounded_recursion_stops_at_the_frame_limit()
    {
        var e = Eval.Error("local f(n) = 1 + f(n + 1); f(0)");
        Assert.Equal("max stack frames exceeded.", e.Message);
    }

    [Fact]
    public void The_frame_limit_is_configurable()
    {
        const string code = "local f(n) = if n == 0 then 0 else 1 + f(n - 1); f(300)";
        Assert.Equal("300", Eval.Min(code));
        var e = Eval.Error(code, new JsonnetEvaluationOptions { MaxStackFrames = 100 });
        Assert.Equal("max stack frames exceeded.", e.Message);
    }

    [Fact]
    public void Deeply_nested_expressions_do_not_overflow_the_thread_stack()
    {
        // 20 000 nested additions on a small-stack thread: must become an error, not a crashed process.
        var code = string.Concat(Enumerable.Repeat("1 + ", 20000)) + "1";
        JsonnetException? caught = null;
        string? result = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = Eval.Min(code);
            }
            catch (JsonnetException e)
            {
                caught = e;
            }
        }, 256 * 1024);
        thread.Start();
        thread.Join();
        Assert.True(result == "20001" || caught?.Message == "max stack frames exceeded.", result ?? caught?.Message);
    }

    [Fact]
    public void Deeply_nested_data_compares_without_overflowing()
    {
        JsonnetException? caught = null;
        var thread = new Thread(() =>
        {
            try
            {
                Eval.Min("local deep() = std.foldl(function(acc, x) [acc], std.range(1, 200000), []); deep() == deep()");
            }
            catch (JsonnetException e)
            {
                caught = e;
            }
        }, 512 * 1024);
        thread.Start();
        thread.Join();
        Assert.Equal("max stack frames exceeded.", caught?.Message);
    }

    [Fact]
    public void Work_is_bounded_by_a_step_budget()
    {
        var e = Eval.Error("std.foldl(function(a, b) a + b, std.range(1, 1000000), 0)", new JsonnetEvaluationOptions { MaxSteps = 10_000 });
        Assert.StartsWith("evaluation exceeded the limit of 10000 steps", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Output_size_is_bounded()
    {
        var e = Eval.Error("std.makeArray(100000, function(i) 'xxxxxxxxxx')", new JsonnetEvaluationOptions { MaxOutputLength = 100_000 });
        Assert.StartsWith("output exceeds the limit of 100000 characters", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluation_stops_at_the_time_limit()
    {
        var options = new JsonnetEvaluationOptions { Timeout = TimeSpan.FromMilliseconds(200), MaxSteps = 0 };
        var started = System.Diagnostics.Stopwatch.StartNew();
        var e = Eval.Error("local f(n) = if n == 0 then 0 else f(n - 1) + 0 * f(n - 1); f(60)", options);
        Assert.StartsWith("evaluation exceeded the time limit", e.Message, StringComparison.Ordinal);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Evaluation_can_be_cancelled()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var e = Assert.Throws<JsonnetException>(() =>
            Eval.Engine.Evaluate("std.foldl(function(a, b) a + b, std.range(1, 1000000), 0)", cancellationToken: cts.Token));
        Assert.Equal("evaluation was cancelled.", e.Message);
    }

    [Fact]
    public void Imports_fail_without_a_resolver() =>
        Assert.StartsWith("couldn't open import", Eval.Error("import '/etc/passwd'").Message, StringComparison.Ordinal);

    [Fact]
    public void Parse_depth_is_bounded() =>
        Assert.Equal("Exceeded maximum parse depth limit.", Eval.Error(new string('[', 1000) + new string(']', 1000)).Message);

    [Theory]
    [InlineData("local s(n) = if n == 0 then 'xxxxxxxx' else s(n - 1) + s(n - 1); std.length(s(40))")]
    [InlineData("std.length(std.repeat('x', 1e12))")]
    [InlineData("std.length(std.range(1, 1e12))")]
    [InlineData("std.length(std.makeArray(1e12, function(i) i))")]
    [InlineData("local a(n) = if n == 0 then [1] else a(n - 1) + a(n - 1); std.length(a(40))")]
    public void Values_too_large_for_memory_are_refused(string code)
    {
        // The size limit is under test, not the clock: a generous timeout keeps a busy machine (two CPUs shared with the
        // browser tests) from turning the expected error into a timeout.
        var e = Eval.Error(code, new JsonnetEvaluationOptions { MaxValueLength = 1_000_000, Timeout = TimeSpan.FromMinutes(2) });
        Assert.StartsWith("value too large", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deeply_nested_yaml_is_refused_without_crashing()
    {
        var e = Eval.Error("std.parseYaml(std.repeat('[', 200000))");
        Assert.StartsWith("YAML error", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deeply_nested_json_is_refused_without_crashing()
    {
        var e = Eval.Error("std.parseJson(std.repeat('[', 200000) + std.repeat(']', 200000))");
        Assert.StartsWith("failed to parse JSON", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Allocation_is_bounded()
    {
        var options = new JsonnetEvaluationOptions { MaxAllocatedBytes = 20 * 1024 * 1024, MaxSteps = 0, Timeout = null };
        var e = Eval.Error("std.length(std.foldl(function(acc, i) acc + [i], std.range(1, 100000), []))", options);
        Assert.StartsWith("evaluation exceeded the memory limit", e.Message, StringComparison.Ordinal);
    }
}
