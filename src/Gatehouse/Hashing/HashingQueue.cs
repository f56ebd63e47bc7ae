using Gatehouse.Config;
using Gatehouse.Http.Errors;
using System.Runtime.InteropServices;
using Gatehouse.Text;

namespace Gatehouse.Hashing;

/// <summary>
/// The bounded work queue every password hash of a request runs through (<c>gatehouse.hashing.queue</c>): at most
/// <c>concurrency</c> hashes at once, at most <c>max_queued</c> waiting (asynchronously, holding no thread), each for at
/// most <c>max_wait</c>. Beyond that the request is shed with 503 and <c>Retry-After</c>, so a flood of logins queues or is
/// refused instead of taking every core and thread-pool thread from whoami and the other cheap requests.
/// <para>
/// The hashes themselves run on the queue's own threads, not on the request's thread-pool thread: a bcrypt at cost 12
/// holds a core for ~300 ms, and with it on the pool a 2-core server had no pool thread left for anything else until the
/// pool's starvation detection added one (about two a second), so a burst of hashes left every cheap request queued for
/// seconds. On Linux these threads also run at a lower scheduling priority (<c>gatehouse.hashing.queue.priority</c>, see
/// <see cref="Priorities"/>): they still take every idle core, but a whoami that needs a core gets it ahead of a hash.
/// </para>
/// <para>
/// A hashing thread never touches the thread pool, because a Linux thread is born with its creator's priority and .NET's
/// pool creates a new worker on whichever thread queues work while every worker is busy
/// (<c>PortableThreadPool.WorkerThread.MaybeAddWorkingWorker</c>): a hash's result, and the slot it frees, would resume
/// their waiters on the pool from the hashing thread, and now and then leave a request-serving worker at the hashes' low
/// priority. So a hashing thread hands both to the queue's completer thread, which runs at the normal priority and
/// completes them there. The hashes themselves use no pool either (see <see cref="Argon2Hash.Derive"/>).
/// </para>
/// </summary>
public sealed class HashingQueue : IDisposable
{
    /// <summary>
    /// The niceness of the hashing threads (0 is normal, 19 the lowest priority). 10 gives a hash about a tenth of the
    /// weight of a request thread when both want the same core; raising niceness needs no privilege.
    /// </summary>
    public const int HashThreadNiceness = 10;

    /// <summary>The values of <c>gatehouse.hashing.queue.priority</c>.</summary>
    public static class Priorities
    {
        /// <summary>Niceness <see cref="HashThreadNiceness"/> and a <see cref="LowSliceNanoseconds"/> time slice: a hash gets about a tenth of a core's time against a busy request thread, and a request thread that wakes on its core waits at most that slice.</summary>
        public const string Low = "low";

        /// <summary>
        /// <c>SCHED_IDLE</c> (and niceness <see cref="HashThreadNiceness"/>, kept should the policy be reset): the kernel
        /// preempts a hash the moment a normal thread on its core wakes, so a request never waits out a hash's time slice;
        /// but while requests keep every core busy a hash gets almost no CPU, and waiting logins are shed after
        /// <c>max_wait</c>. Switching to it needs no privilege.
        /// </summary>
        public const string Idle = "idle";

        /// <summary>The threads keep the process's priority.</summary>
        public const string Normal = "normal";
    }

    private readonly SemaphoreSlim _slots;
    private readonly System.Collections.Concurrent.BlockingCollection<Action> _work = new();
    private readonly System.Collections.Concurrent.BlockingCollection<Action> _completions = new();
    private readonly Thread[] _threads;
    private readonly Thread _completer;
    private readonly int _maxQueued;
    private readonly TimeSpan _maxWait;
    private readonly string _priority;
    private int _waiting;

    public HashingQueue(HashingQueueOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Concurrency = options.Concurrency > 0 ? options.Concurrency : Environment.ProcessorCount;
        _maxQueued = options.MaxQueued > 0 ? options.MaxQueued : 64 * Environment.ProcessorCount;
        _maxWait = options.MaxWait > TimeSpan.Zero ? options.MaxWait : TimeSpan.FromSeconds(10);
        _priority = options.Priority ?? Priorities.Low;
        _slots = new SemaphoreSlim(Concurrency, Concurrency);
        // One thread per slot: the semaphore admits at most Concurrency hashes, so one is always free to take the next.
        _threads = new Thread[Concurrency];
        for (var i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(Work) { IsBackground = true, Name = $"gatehouse-hash-{i}" };
            _threads[i].Start();
        }
        // Created here, so at the constructing thread's priority, and never lowered.
        _completer = new Thread(Complete) { IsBackground = true, Name = "gatehouse-hash-completer" };
        _completer.Start();
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
        return await RunInSlotAsync(work);
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
        return RunInSlotAsync(work).GetAwaiter().GetResult();
    }

    /// <summary>Takes a place in the queue, or sheds the request when the queue is full.</summary>
    private void Enqueue()
    {
        if (Interlocked.Increment(ref _waiting) <= _maxQueued) return;
        Interlocked.Decrement(ref _waiting);
        throw Busy();
    }

    /// <summary>
    /// Hands <paramref name="work"/> to a hashing thread (the caller holds a slot). The hashing thread hands the outcome to
    /// the completer, which frees the slot and completes the caller's task.
    /// </summary>
    private Task<T> RunInSlotAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _work.Add(() =>
            {
                Action complete;
                try
                {
                    var result = work();
                    complete = () => done.SetResult(result);
                }
                catch (Exception ex)
                {
                    complete = () => done.SetException(ex);
                }
                try
                {
                    _completions.Add(() =>
                    {
                        _slots.Release();
                        complete();
                    });
                }
                catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
                {
                    // Disposed while this hash ran: no completer any more and no slots to free; the caller still gets
                    // its outcome (priority no longer matters to a server shutting down).
                    complete();
                }
            });
        }
        catch
        {
            _slots.Release();
            throw;
        }
        return done.Task;
    }

    private void Work()
    {
        LowerThisThreadsPriority(_priority);
        try
        {
            foreach (var item in _work.GetConsumingEnumerable()) item();
        }
        catch (ObjectDisposedException)
        {
            // Disposed while waiting: the queue is shutting down.
        }
    }

    /// <summary>Completes the callers of finished hashes, at the normal priority (see the class's remarks).</summary>
    private void Complete()
    {
        try
        {
            foreach (var item in _completions.GetConsumingEnumerable()) item();
        }
        catch (ObjectDisposedException)
        {
            // Disposed while waiting: the queue is shutting down.
        }
    }

    /// <summary>
    /// Lowers this thread's priority on Linux (per thread: a Linux thread is its own scheduling entity). .NET's
    /// <see cref="Thread.Priority"/> is not applied on Linux, hence the system calls; where they fail the thread keeps the
    /// normal priority, which only costs latency under load.
    /// </summary>
    private static void LowerThisThreadsPriority(string priority)
    {
        if (!OperatingSystem.IsLinux() || priority == Priorities.Normal) return;
        try
        {
            var tid = GetThreadId();
            _ = SetPriority(PrioProcess, tid, HashThreadNiceness);
            if (priority != Priorities.Idle)
            {
                ShortenThisThreadsSlice(tid);
                return;
            }
            var param = 0; // struct sched_param { int sched_priority; }, 0 for SCHED_IDLE
            _ = SetScheduler(tid, SchedIdle, ref param);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc/musl as expected: keep the normal priority.
        }
    }

    /// <summary>
    /// The time slice asked for a <c>low</c> hashing thread: the kernel's smallest custom slice (Linux 6.12 and later,
    /// <c>sched_setattr</c> with <c>sched_runtime</c> under the normal policy). The EEVDF scheduler lets a running thread
    /// finish its slice before a thread that wakes on its core may preempt it (measured here: a woken whoami waited behind
    /// a hash for up to one scheduler tick, 4 ms at HZ=250). With a 0.1 ms slice that protection ends 0.1 ms into each turn
    /// of a hash, so a request that wakes later takes the core at once; the hash keeps its niceness, i.e. its share of a
    /// contended core. Older kernels ignore the field, and then only the niceness applies.
    /// </summary>
    public const ulong LowSliceNanoseconds = 100_000;

    /// <summary>Asks the kernel for <see cref="LowSliceNanoseconds"/> on this thread, keeping its normal policy and niceness.</summary>
    private static void ShortenThisThreadsSlice(int tid)
    {
        var number = SchedSetAttrSyscall();
        if (number < 0) return;
        var attr = new SchedAttr
        {
            Size = (uint)Marshal.SizeOf<SchedAttr>(),
            Policy = 0, // SCHED_OTHER
            Nice = HashThreadNiceness,
            Runtime = LowSliceNanoseconds,
        };
        // No libc wrapper before glibc 2.41, hence syscall(2). A failure (an older kernel, a seccomp filter) leaves the
        // thread as setpriority made it.
        _ = SysCall(number, tid, ref attr, 0);
    }

    /// <summary>This thread's time slice in nanoseconds as the kernel reports it (Linux, for tests), or null where unknown.</summary>
    internal static ulong? CurrentThreadSlice()
    {
        if (!OperatingSystem.IsLinux()) return null;
        // /proc/thread-self/sched lists "se.slice : <ns>" on kernels with custom slices (and some before them).
        try
        {
            foreach (var line in File.ReadLines("/proc/thread-self/sched"))
            {
                if (!line.StartsWith("se.slice ", StringComparison.Ordinal)) continue;
                var value = line[(line.IndexOf(':') + 1)..].Trim();
                return ulong.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ns) ? ns : null;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }

    /// <summary>sched_setattr's system call number on this architecture, or -1 where not known here.</summary>
    private static long SchedSetAttrSyscall() => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 314,
        Architecture.Arm64 => 274,
        _ => -1,
    };

    /// <summary>struct sched_attr as of Linux 3.14 (SCHED_ATTR_SIZE_VER0, 48 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct SchedAttr
    {
        public uint Size;
        public uint Policy;
        public ulong Flags;
        public int Nice;
        public uint Priority;
        public ulong Runtime;
        public ulong Deadline;
        public ulong Period;
    }

    /// <summary>This thread's scheduling policy on Linux (for tests): 0 normal, 5 idle; null elsewhere.</summary>
    internal static int? CurrentThreadPolicy() => OperatingSystem.IsLinux() ? GetScheduler(GetThreadId()) is var p and >= 0 ? p : null : null;

    /// <summary>This thread's niceness on Linux (for tests), or null elsewhere.</summary>
    internal static int? CurrentThreadNiceness()
    {
        if (!OperatingSystem.IsLinux()) return null;
        Marshal.SetLastPInvokeError(0);
        var nice = GetPriority(PrioProcess, GetThreadId());
        return nice == -1 && Marshal.GetLastPInvokeError() != 0 ? null : nice;
    }

    private const int PrioProcess = 0;
    internal const int SchedIdle = 5;

    // DllImport rather than LibraryImport: the generated LibraryImport stubs need unsafe code enabled for the whole
    // project, and these calls take and return plain ints (or a pointer to one, or to a blittable struct), which need no
    // marshalling code at all.
    [DllImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static extern int SetPriority(int which, int who, int prio);

    [DllImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    private static extern int GetPriority(int which, int who);

    [DllImport("libc", EntryPoint = "sched_setscheduler", SetLastError = true)]
    private static extern int SetScheduler(int pid, int policy, ref int param);

    [DllImport("libc", EntryPoint = "sched_getscheduler", SetLastError = true)]
    private static extern int GetScheduler(int pid);

    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static extern long SysCall(long number, int pid, ref SchedAttr attr, uint flags);

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetThreadId();

    public static GatehouseError Busy() =>
        new(503, Messages.ServerBusy(1)["text"]!.GetValue<string>(), "server_busy", details: new System.Text.Json.Nodes.JsonObject { ["retry_after_seconds"] = 1, ["message"] = Messages.ServerBusy(1) })
        {
            RetryAfter = TimeSpan.FromSeconds(1),
        };

    public void Dispose()
    {
        _work.CompleteAdding();
        foreach (var thread in _threads) thread.Join(TimeSpan.FromSeconds(5));
        // After the hashing threads: the hashes they finished are still completed.
        _completions.CompleteAdding();
        _completer.Join(TimeSpan.FromSeconds(5));
        _work.Dispose();
        _completions.Dispose();
        _slots.Dispose();
    }
}
