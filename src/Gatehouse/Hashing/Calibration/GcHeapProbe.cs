namespace Gatehouse.Hashing.Calibration;

/// <summary>
/// The .NET GC heap as Kratos reads Go's heap. Kratos samples <c>runtime.MemStats.HeapAlloc</c>, the bytes of heap
/// objects allocated and not yet freed (garbage included until a collection runs); <see cref="GC.GetTotalMemory(bool)"/>
/// without forcing a collection is the same figure for the managed heap. BouncyCastle's Argon2 keeps its memory blocks
/// in managed arrays, so a hash's <c>m</c> KiB show here as they show in Go's heap.
/// </summary>
public sealed class GcHeapProbe : IHeapProbe
{
    public static GcHeapProbe Instance { get; } = new();

    public void Collect() => GC.Collect();

    public long AllocatedBytes() => GC.GetTotalMemory(forceFullCollection: false);
}
