using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using Gatehouse.Config;
using Gatehouse.Hashing;

namespace Gatehouse.Tests.RateLimiting;

/// <summary>
/// The cause behind <see cref="HashingQueueTests.Thread_pool_workers_are_never_created_by_a_hashing_thread_so_none_inherits_its_priority"/>,
/// checked directly. .NET's pool creates a new worker on the thread that queues work when every worker is busy, and a
/// Linux thread is born with its creator's niceness and policy; so a hashing thread must never queue work to the pool.
/// The runtime reports every work item queued to the pool on the queuing thread (FrameworkEventSource's
/// ThreadPoolEnqueueWork), which a listener in the process sees synchronously on that thread.
/// </summary>
public sealed class HashingQueuePoolTests
{
    [Fact]
    public async Task A_hashing_thread_queues_nothing_to_the_thread_pool_neither_results_nor_freed_slots_nor_parts_of_a_hash()
    {
        using var listener = new PoolEnqueueListener();
        using var queue = new HashingQueue(new HashingQueueOptions { Concurrency = 1, MaxWait = TimeSpan.FromMinutes(1) });
        using var release = new ManualResetEventSlim();
        // One slot: the first hash holds it, so the others wait, and each freed slot resumes a waiting caller.
        var holding = queue.RunAsync(() => release.Wait(TimeSpan.FromMinutes(1)), CancellationToken.None);
        var waiting = Enumerable.Range(0, 8).Select(i => queue.RunAsync(() => i, CancellationToken.None)).ToArray();
        // A hash with lanes (argon2id, p=4) and one that fails.
        var argon2 = queue.RunAsync(() => Argon2Hash.Derive(true, "password"u8.ToArray(), new byte[16], 64, 1, 4, 32), CancellationToken.None);
        var failing = queue.RunAsync<int>(() => throw new InvalidOperationException("a failing hash"), CancellationToken.None);
        release.Set();

        Assert.True(await holding);
        Assert.Equal(Enumerable.Range(0, 8), await Task.WhenAll(waiting));
        Assert.Equal(32, (await argon2).Length);
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
        // The synchronous entry point, from a pool thread of its own.
        Assert.Equal(7, await Task.Run(() => queue.Run(() => 7)));

        Assert.Empty(listener.FromHashingThreads);
        // The listener does see the queue's continuations: the completer queues them.
        Assert.Contains(listener.Threads, name => name == "gatehouse-hash-completer");
    }

    /// <summary>Records the name of every thread that queues work to the thread pool while it listens.</summary>
    private sealed class PoolEnqueueListener : EventListener
    {
        // System.Diagnostics.Eventing.FrameworkEventSource's keywords ThreadPool (0x2) and ThreadTransfer (0x10): the
        // pool's work queue reports each enqueue only when both are on, at the verbose level.
        private const EventKeywords ThreadPoolEnqueues = (EventKeywords)0x12;

        public ConcurrentBag<string> Threads { get; } = [];

        public IEnumerable<string> FromHashingThreads => Threads.Where(n => n.StartsWith("gatehouse-hash-", StringComparison.Ordinal) && n != "gatehouse-hash-completer");

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "System.Diagnostics.Eventing.FrameworkEventSource") EnableEvents(eventSource, EventLevel.Verbose, ThreadPoolEnqueues);
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            // Called during the base constructor for sources that exist already, before Threads is set.
            if (eventData.EventName is "ThreadPoolEnqueueWork" or "ThreadPoolEnqueueWorkObject") Threads?.Add(Thread.CurrentThread.Name ?? "");
        }
    }
}
