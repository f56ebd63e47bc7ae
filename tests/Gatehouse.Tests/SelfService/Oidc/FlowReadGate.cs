using Gatehouse.Persistence;
using Gatehouse.Persistence.Stores;
using Gatehouse.SelfService.Flows;

namespace Gatehouse.Tests.SelfService.Oidc;

/// <summary>
/// Lets a test line up concurrent requests: when armed for a flow, the next <see cref="Parties"/> reads of that flow each
/// wait until all of them have read it, so every request sees the same stored flow before any of them writes. Disarmed
/// (the default) it does nothing.
/// </summary>
public sealed class FlowReadGate
{
    private readonly Lock _lock = new();
    private Guid? _flow;
    private Barrier? _barrier;
    private int _left;

    public const int Parties = 2;

    public void Arm(Guid flow)
    {
        lock (_lock)
        {
            _flow = flow;
            _barrier = new Barrier(Parties);
            _left = Parties;
        }
    }

    public void OnRead(Guid flow)
    {
        Barrier? barrier;
        lock (_lock)
        {
            if (_flow != flow || _left == 0) return;
            _left--;
            barrier = _barrier;
        }
        // Bounded, so a test that lines up fewer requests fails instead of hanging.
        barrier!.SignalAndWait(TimeSpan.FromSeconds(10));
    }

    /// <summary>Registers the gate in front of the EF flow store.</summary>
    public static void Install(IServiceCollection services, FlowReadGate gate)
    {
        services.AddSingleton(gate);
        services.AddScoped<IFlowStore>(sp => new Gated(new EfFlowStore(sp.GetRequiredService<GatehouseDbContext>()), gate));
    }

    private sealed class Gated(IFlowStore inner, FlowReadGate gate) : IFlowStore
    {
        public Task InsertAsync(SelfServiceFlow flow, CancellationToken ct) => inner.InsertAsync(flow, ct);
        public Task UpdateAsync(SelfServiceFlow flow, CancellationToken ct) => inner.UpdateAsync(flow, ct);
        public Task<bool> SwapInternalContextAsync(Guid id, string? expected, string? replacement, DateTime now, CancellationToken ct) =>
            inner.SwapInternalContextAsync(id, expected, replacement, now, ct);
        public Task<bool> DeleteTestFlowAsync(Guid id, CancellationToken ct) => inner.DeleteTestFlowAsync(id, ct);

        public async Task<SelfServiceFlow?> FindAsync(Guid id, string kind, CancellationToken ct)
        {
            var flow = await inner.FindAsync(id, kind, ct);
            await Task.Run(() => gate.OnRead(id), ct);
            return flow;
        }
    }
}
