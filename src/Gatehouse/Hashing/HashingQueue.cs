using Gatehouse.Config;
using Gatehouse.Http.Errors;
using Gatehouse.Text;

namespace Gatehouse.Hashing;

/// <summary>
/// The bounded work queue every password hash of a request runs through (<c>gatehouse.hashing.queue</c>): at most
/// <c>concurrency</c> hashes at once, at most <c>max_queued</c> waiting (asynchronously, holding no thread), each for at
/// most <c>max_wait</c>. Beyond that the request is shed with 503 and <c>Retry-After</c>, so a flood of logins queues or is
/// refused instead of taking every core and thread-pool thread from whoami and the other cheap requests.
/// </summary>
public sealed class HashingQueue : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private readonly int _maxQueued;
    private readonly TimeSpan _maxWait;
    private int _waiting;

    public HashingQueue(HashingQueueOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Concurrency = options.Concurrency > 0 ? options.Concurrency : Environment.ProcessorCount;
        _maxQueued = options.MaxQueued > 0 ? options.MaxQueued : 64 * Environment.ProcessorCount;
        _maxWait = options.MaxWait > TimeSpan.Zero ? options.MaxWait : TimeSpan.FromSeconds(10);
        _slots = new SemaphoreSlim(Concurrency, Concurrency);
    }

    public int Concurrency { get; }

    /// <summary>Hashes waiting for a slot right now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Runs <paramref name="work"/> (a hash) when a slot is free.</summary>
    /// <exception cref="GatehouseError">503 with <c>Retry-After</c>: the queue is full or the wait took too long.</exception>
    public async Task<T> RunAsync<T>(Func<T> work, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!_slots.Wait(0))
        {
            Enqueue();
            bool entered;
            try
            {
                entered = await _slots.WaitAsync(_maxWait, ct);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
            if (!entered) throw Busy();
        }
        return RunInSlot(work);
    }

    /// <summary>
    /// The same for callers that cannot await (hashing inside the synchronous credential import): the wait blocks the
    /// calling thread, within the same bounds.
    /// </summary>
    public T Run<T>(Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!_slots.Wait(0))
        {
            Enqueue();
            bool entered;
            try
            {
                entered = _slots.Wait(_maxWait);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
            if (!entered) throw Busy();
        }
        return RunInSlot(work);
    }

    /// <summary>Takes a place in the queue, or sheds the request when the queue is full.</summary>
    private void Enqueue()
    {
        if (Interlocked.Increment(ref _waiting) <= _maxQueued) return;
        Interlocked.Decrement(ref _waiting);
        throw Busy();
    }

    private T RunInSlot<T>(Func<T> work)
    {
        try
        {
            return work();
        }
        finally
        {
            _slots.Release();
        }
    }

    public static GatehouseError Busy() =>
        new(503, Messages.ServerBusy(1)["text"]!.GetValue<string>(), "server_busy", details: new System.Text.Json.Nodes.JsonObject { ["retry_after_seconds"] = 1, ["message"] = Messages.ServerBusy(1) })
        {
            RetryAfter = TimeSpan.FromSeconds(1),
        };

    public void Dispose() => _slots.Dispose();
}
