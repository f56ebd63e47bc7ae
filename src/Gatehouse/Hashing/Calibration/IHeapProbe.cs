namespace Gatehouse.Hashing.Calibration;

/// <summary>The heap the calibration watches: Kratos calls <c>runtime.GC()</c> before each measurement and reads <c>HeapAlloc</c>.</summary>
public interface IHeapProbe
{
    /// <summary>Collects garbage, so a measurement starts from the live heap.</summary>
    void Collect();

    /// <summary>The bytes allocated on the heap now.</summary>
    long AllocatedBytes();
}
