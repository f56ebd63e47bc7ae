using Gatehouse.OAuth2.Device;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Stores;

/// <summary><see cref="IOAuth2DeviceStore"/> on <c>oauth2_device_requests</c> and <c>oauth2_device_challenges</c>.</summary>
public sealed class EfOAuth2DeviceStore(GatehouseDbContext db) : IOAuth2DeviceStore
{
    public async Task<bool> AddRequestAsync(OAuth2DeviceRequest request, CancellationToken ct)
    {
        request.Nid = db.Nid;
        db.OAuth2DeviceRequests.Add(request);
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e))
        {
            return false;
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }

    public Task<OAuth2DeviceRequest?> FindRequestByDeviceCodeAsync(byte[] hash, CancellationToken ct) =>
        db.OAuth2DeviceRequests.AsNoTracking().FirstOrDefaultAsync(r => r.DeviceCode == hash, ct);

    public Task<OAuth2DeviceRequest?> FindRequestByUserCodeAsync(byte[] hash, CancellationToken ct) =>
        db.OAuth2DeviceRequests.AsNoTracking().FirstOrDefaultAsync(r => r.UserCode == hash, ct);

    public Task<OAuth2DeviceRequest?> FindRequestAsync(Guid pk, CancellationToken ct) =>
        db.OAuth2DeviceRequests.AsNoTracking().FirstOrDefaultAsync(r => r.Pk == pk, ct);

    public async Task<bool> ChangeRequestStateAsync(Guid pk, int from, int to, Guid? flowId, CancellationToken ct) =>
        await db.OAuth2DeviceRequests.Where(r => r.Pk == pk && r.State == from)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.State, to).SetProperty(r => r.FlowId, r => flowId ?? r.FlowId), ct) == 1;

    public async Task<bool> PollAsync(Guid pk, DateTime now, CancellationToken ct)
    {
        var row = await db.OAuth2DeviceRequests.AsNoTracking().Where(r => r.Pk == pk).Select(r => new { r.NextPollAt, r.PollInterval }).FirstOrDefaultAsync(ct);
        if (row is null) return false;
        var previous = row.NextPollAt;
        if (previous is null || previous <= now)
        {
            // In time: the next poll is due one interval from now. A concurrent poll that changed the row first wins;
            // this one came too early then.
            var next = now.AddSeconds(row.PollInterval);
            return await db.OAuth2DeviceRequests.Where(r => r.Pk == pk && r.NextPollAt == previous)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.NextPollAt, next), ct) == 1;
        }
        // Too early: slow_down, and this device's interval grows by 5 s (RFC 8628 3.5).
        var interval = row.PollInterval + 5;
        var due = now.AddSeconds(interval);
        await db.OAuth2DeviceRequests.Where(r => r.Pk == pk && r.PollInterval == row.PollInterval)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.PollInterval, interval).SetProperty(r => r.NextPollAt, due), ct);
        return false;
    }

    public async Task AddChallengeAsync(OAuth2DeviceChallenge challenge, CancellationToken ct)
    {
        challenge.Nid = db.Nid;
        db.OAuth2DeviceChallenges.Add(challenge);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }

    public Task<OAuth2DeviceChallenge?> FindChallengeAsync(byte[] hash, CancellationToken ct) =>
        db.OAuth2DeviceChallenges.AsNoTracking().FirstOrDefaultAsync(c => c.Challenge == hash, ct);

    public async Task<bool> TakeAttemptAsync(Guid pk, int max, CancellationToken ct) =>
        await db.OAuth2DeviceChallenges.Where(c => c.Pk == pk && c.Attempts < max)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Attempts, c => c.Attempts + 1), ct) == 1;

    public async Task<bool> AcceptChallengeAsync(Guid pk, Guid deviceRequestId, byte[] verifier, CancellationToken ct) =>
        await db.OAuth2DeviceChallenges.Where(c => c.Pk == pk)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.State, 1).SetProperty(c => c.DeviceRequestId, deviceRequestId).SetProperty(c => c.Verifier, verifier), ct) == 1;

    public async Task<OAuth2DeviceChallenge?> SpendVerifierAsync(byte[] verifier, CancellationToken ct)
    {
        var spent = await db.OAuth2DeviceChallenges.Where(c => c.Verifier == verifier && c.State == 1)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.State, 2), ct) == 1;
        return spent ? await db.OAuth2DeviceChallenges.AsNoTracking().FirstOrDefaultAsync(c => c.Verifier == verifier, ct) : null;
    }
}
