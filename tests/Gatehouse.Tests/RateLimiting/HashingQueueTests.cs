using Gatehouse.Config;
using Gatehouse.Hashing;
using Gatehouse.Http.Errors;

namespace Gatehouse.Tests.RateLimiting;

public sealed class HashingQueueTests
{
    [Fact]
    public async Task Hashes_beyond_the_concurrency_wait_and_beyond_the_queue_are_shed_with_503_and_retry_after()
    {
        using var queue = new HashingQueue(new HashingQueueOptions { Concurrency = 1, MaxQueued = 1, MaxWait = TimeSpan.FromMinutes(1) });
        using var release = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        var running = Task.Run(() => queue.RunAsync(() => { started.Set(); release.Wait(); return 1; }, CancellationToken.None));
        started.Wait();
        var waiting = queue.RunAsync(() => 2, CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, queue.Waiting);

        var shed = await Assert.ThrowsAsync<GatehouseError>(() => queue.RunAsync(() => 3, CancellationToken.None));
        Assert.Equal(503, shed.Code);
        Assert.Equal(TimeSpan.FromSeconds(1), shed.RetryAfter);
        Assert.Equal(4290007, shed.Details!["message"]!["id"]!.GetValue<long>());
        Assert.Throws<GatehouseError>(() => queue.Run(() => 4));

        release.Set();
        Assert.Equal(1, await running);
        Assert.Equal(2, await waiting);
        Assert.Equal(0, queue.Waiting);
        Assert.Equal(5, queue.Run(() => 5));
    }

    [Fact]
    public void Concurrency_defaults_to_the_processor_count() =>
        Assert.Equal(Environment.ProcessorCount, new HashingQueue(new HashingQueueOptions()).Concurrency);

    [Fact]
    public async Task Hashes_run_on_the_queues_own_lower_priority_threads_not_on_the_callers_thread_pool_thread()
    {
        var own = HashingQueue.CurrentThreadNiceness() ?? 0; // 0 unless the test runner itself was started under nice
        using var queue = new HashingQueue(new HashingQueueOptions { Concurrency = 2 });
        var (thread, pool, niceness) = await queue.RunAsync(() => (Environment.CurrentManagedThreadId, Thread.CurrentThread.IsThreadPoolThread, HashingQueue.CurrentThreadNiceness()), CancellationToken.None);
        Assert.NotEqual(Environment.CurrentManagedThreadId, thread);
        Assert.False(pool);
        if (OperatingSystem.IsLinux()) Assert.Equal(HashingQueue.HashThreadNiceness, niceness);
        Assert.Equal(own, HashingQueue.CurrentThreadNiceness() ?? 0);

        // A hash that throws hands its exception to the caller and frees its slot.
        await Assert.ThrowsAsync<InvalidOperationException>(() => queue.RunAsync<int>(() => throw new InvalidOperationException("bad hash"), CancellationToken.None));
        Assert.Throws<InvalidOperationException>(() => queue.Run<int>(() => throw new InvalidOperationException("bad hash")));
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => queue.RunAsync(() => i * 2, CancellationToken.None)));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => i * 2), results);
    }

    [Theory]
    [InlineData("low", 0, 10)]
    [InlineData("idle", HashingQueue.SchedIdle, 10)]
    [InlineData("normal", 0, null)]
    public async Task The_configured_priority_sets_the_hashing_threads_policy_and_niceness_on_linux(string priority, int policy, int? niceness)
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Scheduling policies and per-thread niceness are Linux's.");
        using var queue = new HashingQueue(new HashingQueueOptions { Concurrency = 1, Priority = priority });
        var (threadPolicy, threadNiceness) = await queue.RunAsync(() => (HashingQueue.CurrentThreadPolicy(), HashingQueue.CurrentThreadNiceness()), CancellationToken.None);
        Assert.Equal(policy, threadPolicy);
        Assert.Equal(niceness ?? HashingQueue.CurrentThreadNiceness(), threadNiceness); // normal: the process's own
        // The caller's own thread is untouched.
        Assert.Equal(0, HashingQueue.CurrentThreadPolicy());
    }

    [Fact]
    public async Task Low_priority_hashing_threads_ask_for_the_shortest_slice_so_a_woken_request_need_not_wait_out_theirs()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Custom time slices are Linux's.");
        var own = HashingQueue.CurrentThreadSlice();
        Assert.SkipWhen(own is null, "This kernel does not report its threads' time slices (se.slice in /proc/thread-self/sched).");
        Assert.SkipWhen(own == HashingQueue.LowSliceNanoseconds, "This thread already has the shortest slice, so a change could not be seen.");
        var kernel = Environment.OSVersion.Version;
        Assert.SkipWhen(kernel < new Version(6, 12), $"Custom slices came with Linux 6.12; this is {kernel}.");

        using var low = new HashingQueue(new HashingQueueOptions { Concurrency = 1, Priority = HashingQueue.Priorities.Low });
        var (slice, niceness, policy) = await low.RunAsync(() => (HashingQueue.CurrentThreadSlice(), HashingQueue.CurrentThreadNiceness(), HashingQueue.CurrentThreadPolicy()), CancellationToken.None);
        Assert.Equal(HashingQueue.LowSliceNanoseconds, slice);
        Assert.Equal(HashingQueue.HashThreadNiceness, niceness);
        Assert.Equal(0, policy);

        // normal keeps the process's slice; the caller's own thread is untouched.
        using var normal = new HashingQueue(new HashingQueueOptions { Concurrency = 1, Priority = HashingQueue.Priorities.Normal });
        Assert.Equal(own, await normal.RunAsync(HashingQueue.CurrentThreadSlice, CancellationToken.None));
        Assert.Equal(own, HashingQueue.CurrentThreadSlice());
    }

    /// <summary>
    /// A Linux thread inherits its creator's niceness and policy. The hashing threads queue the callers' continuations
    /// (a hash's result, a freed slot's waiter) to the thread pool; were the pool to create a worker on the queuing
    /// thread, request-serving threads would be born at the hashes' low priority. Provoked here: the pool's minimum is
    /// raised so that a continuation finding no idle worker gets a new one at once, and the continuations hold their
    /// workers until all have started.
    /// </summary>
    [Theory]
    [InlineData("low")]
    [InlineData("idle")]
    public async Task Thread_pool_workers_are_never_created_by_a_hashing_thread_so_none_inherits_its_priority(string priority)
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Per-thread niceness and policies are Linux's.");
        const int hashes = 24;
        ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
        ThreadPool.GetMaxThreads(out var maxWorkers, out _);
        Assert.True(ThreadPool.SetMinThreads(Math.Min(maxWorkers, ThreadPool.ThreadCount + 2 * hashes), minIo));
        try
        {
            using var queue = new HashingQueue(new HashingQueueOptions { Concurrency = 2, Priority = priority });
            var own = (HashingQueue.CurrentThreadNiceness(), HashingQueue.CurrentThreadPolicy());
            using var allStarted = new CountdownEvent(hashes);
            async Task<(int?, int?)> OneAsync(int i)
            {
                await queue.RunAsync(() => i, CancellationToken.None);
                // Now on a pool thread: hold it until every continuation has one, so the pool must add workers.
                allStarted.Signal();
                allStarted.Wait(TimeSpan.FromSeconds(30));
                return (HashingQueue.CurrentThreadNiceness(), HashingQueue.CurrentThreadPolicy());
            }
            var seen = await Task.WhenAll(Enumerable.Range(0, hashes).Select(OneAsync));
            Assert.All(seen, s => Assert.Equal(own, s));
        }
        finally
        {
            ThreadPool.SetMinThreads(minWorkers, minIo);
        }
    }
}
