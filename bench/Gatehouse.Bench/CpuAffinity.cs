using System.Runtime.InteropServices;

namespace Gatehouse.Bench;

/// <summary>
/// Pins the calling thread to the servers' CPUs (<c>--server-cpus</c>), so that a baseline measured in the driver (the
/// hasher's own rate) runs on the same core(s) as the server it is compared with, not on the driver's other CPU: on a
/// virtual machine two CPUs need not be equally fast or equally shared with the host.
/// </summary>
internal static class CpuAffinity
{
    /// <summary>Pins this thread to <see cref="GatehouseProcess.ServerCpus"/>, if set; true when pinned.</summary>
    public static bool PinToServerCpus()
    {
        if (GatehouseProcess.ServerCpus is not { } list || !OperatingSystem.IsLinux()) return false;
        var mask = new ulong[16]; // 1,024 CPUs
        foreach (var part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var range = part.Split('-');
            var first = int.Parse(range[0], System.Globalization.CultureInfo.InvariantCulture);
            var last = range.Length > 1 ? int.Parse(range[1], System.Globalization.CultureInfo.InvariantCulture) : first;
            for (var cpu = first; cpu <= last; cpu++) mask[cpu / 64] |= 1UL << (cpu % 64);
        }
        if (SetAffinity(0, (nuint)(mask.Length * sizeof(ulong)), mask) != 0)
            throw new InvalidOperationException($"sched_setaffinity({list}) failed: errno {Marshal.GetLastPInvokeError()}");
        return true;
    }

    [DllImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static extern int SetAffinity(int pid, nuint size, ulong[] mask);
}
