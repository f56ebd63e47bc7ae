using Gatehouse.OAuth2.Flows;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Persistence.Stores;

/// <summary><see cref="IOAuth2FlowStore"/> on <c>oauth2_flows</c>.</summary>
public sealed class EfOAuth2FlowStore(GatehouseDbContext db) : IOAuth2FlowStore
{
    // Every authorization request starts a flow: one INSERT, without the change tracker (see UpdateAsync).
    public async Task AddAsync(OAuth2Flow flow, CancellationToken ct)
    {
        flow.Nid = db.Nid;
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO oauth2_flows ("Pk", "Nid", "ClientId", "Subject", "State", "LoginChallenge", "LoginVerifier", "ConsentChallenge",
                "ConsentVerifier", "Request", "Login", "Consent", "ConsentRememberedUntil", "LoginSessionId", "ConsentSkip", "ConsentExpiresAt",
                "RequestedAt", "ExpiresAt")
            VALUES ({flow.Pk}, {flow.Nid}, {flow.ClientId}, {flow.Subject}, {flow.State}, {flow.LoginChallenge}, {flow.LoginVerifier}, {flow.ConsentChallenge},
                {flow.ConsentVerifier}, {flow.Request}, {flow.Login}, {flow.Consent}, {flow.ConsentRememberedUntil}, {flow.LoginSessionId}, {flow.ConsentSkip}, {flow.ConsentExpiresAt},
                {flow.RequestedAt}, {flow.ExpiresAt})
            """, ct);
    }

    // The reads of every step of an authorization (each by a unique hash or the key): compiled, prepared once on SQLite.
    public Task<OAuth2Flow?> FindByLoginChallengeAsync(byte[] hash, CancellationToken ct) => ByLoginChallenge.For(db)(db, hash, ct);

    public Task<OAuth2Flow?> FindByLoginVerifierAsync(byte[] hash, CancellationToken ct) => ByLoginVerifier.For(db)(db, hash, ct);

    public Task<OAuth2Flow?> FindByConsentChallengeAsync(byte[] hash, CancellationToken ct) => ByConsentChallenge.For(db)(db, hash, ct);

    public Task<OAuth2Flow?> FindByConsentVerifierAsync(byte[] hash, CancellationToken ct) => ByConsentVerifier.For(db)(db, hash, ct);

    public Task<OAuth2Flow?> FindAsync(Guid pk, CancellationToken ct) => ByPk.For(db)(db, pk, ct);

    private static readonly PerProvider<Func<GatehouseDbContext, byte[], CancellationToken, Task<OAuth2Flow?>>> ByLoginChallenge = new(() =>
        EF.CompileAsyncQuery((GatehouseDbContext db, byte[] hash, CancellationToken ct) =>
            db.OAuth2Flows.AsNoTracking().TagWith(SqlitePreparedReads.Tag).FirstOrDefault(f => f.LoginChallenge == hash)));

    private static readonly PerProvider<Func<GatehouseDbContext, byte[], CancellationToken, Task<OAuth2Flow?>>> ByLoginVerifier = new(() =>
        EF.CompileAsyncQuery((GatehouseDbContext db, byte[] hash, CancellationToken ct) =>
            db.OAuth2Flows.AsNoTracking().TagWith(SqlitePreparedReads.Tag).FirstOrDefault(f => f.LoginVerifier == hash)));

    private static readonly PerProvider<Func<GatehouseDbContext, byte[], CancellationToken, Task<OAuth2Flow?>>> ByConsentChallenge = new(() =>
        EF.CompileAsyncQuery((GatehouseDbContext db, byte[] hash, CancellationToken ct) =>
            db.OAuth2Flows.AsNoTracking().TagWith(SqlitePreparedReads.Tag).FirstOrDefault(f => f.ConsentChallenge == hash)));

    private static readonly PerProvider<Func<GatehouseDbContext, byte[], CancellationToken, Task<OAuth2Flow?>>> ByConsentVerifier = new(() =>
        EF.CompileAsyncQuery((GatehouseDbContext db, byte[] hash, CancellationToken ct) =>
            db.OAuth2Flows.AsNoTracking().TagWith(SqlitePreparedReads.Tag).FirstOrDefault(f => f.ConsentVerifier == hash)));

    private static readonly PerProvider<Func<GatehouseDbContext, Guid, CancellationToken, Task<OAuth2Flow?>>> ByPk = new(() =>
        EF.CompileAsyncQuery((GatehouseDbContext db, Guid pk, CancellationToken ct) =>
            db.OAuth2Flows.AsNoTracking().TagWith(SqlitePreparedReads.Tag).FirstOrDefault(f => f.Pk == pk)));

    // Every step of an authorization writes the flow once: one fixed statement, so that neither the LINQ of an
    // ExecuteUpdate (eleven setters, parameters extracted from the tree on every call) nor the change tracker runs per
    // step; the same text each time, so Npgsql's auto-prepare keeps it on PostgreSQL. The WHERE clause's expected state
    // is what makes each challenge and verifier spendable once.
    public async Task<bool> UpdateAsync(OAuth2Flow flow, int expectedState, CancellationToken ct)
    {
        var nid = db.Nid;
        return await db.Database.ExecuteSqlAsync($"""
            UPDATE oauth2_flows SET "State" = {flow.State}, "Subject" = {flow.Subject}, "LoginVerifier" = {flow.LoginVerifier},
                "ConsentChallenge" = {flow.ConsentChallenge}, "ConsentVerifier" = {flow.ConsentVerifier}, "Login" = {flow.Login},
                "Consent" = {flow.Consent}, "ConsentRememberedUntil" = {flow.ConsentRememberedUntil}, "LoginSessionId" = {flow.LoginSessionId},
                "ConsentSkip" = {flow.ConsentSkip}, "ConsentExpiresAt" = {flow.ConsentExpiresAt}
            WHERE "Pk" = {flow.Pk} AND "Nid" = {nid} AND "State" = {expectedState}
            """, ct) == 1;
    }

    // Read at every login verifier (remembered consent) and every new authorization with a remembered login: compiled,
    // prepared once on SQLite; the consent read walks the partial index IX_oauth2_flows_remembered_consents.
    public Task<OAuth2Flow?> FindRememberedConsentAsync(string clientId, string subject, DateTime now, CancellationToken ct) =>
        RememberedConsent.For(db)(db, clientId, subject, now, ct);

    public Task<OAuth2LoginSession?> FindRememberedLoginSessionAsync(byte[] cookieHash, DateTime now, CancellationToken ct) =>
        RememberedLoginSession.For(db)(db, cookieHash, now, ct);

    private static readonly PerProvider<Func<GatehouseDbContext, string, string, DateTime, CancellationToken, Task<OAuth2Flow?>>> RememberedConsent = new(() =>
        EF.CompileAsyncQuery((GatehouseDbContext db, string clientId, string subject, DateTime now, CancellationToken ct) =>
            db.OAuth2Flows.AsNoTracking().TagWith(SqlitePreparedReads.Tag)
                .Where(f => f.ClientId == clientId && f.Subject == subject && f.State == OAuth2FlowState.ConsentUsed && f.ConsentRememberedUntil != null && f.ConsentRememberedUntil > now)
                .OrderByDescending(f => f.RequestedAt).FirstOrDefault()));

    private static readonly PerProvider<Func<GatehouseDbContext, byte[], DateTime, CancellationToken, Task<OAuth2LoginSession?>>> RememberedLoginSession = new(() =>
        EF.CompileAsyncQuery((GatehouseDbContext db, byte[] cookieHash, DateTime now, CancellationToken ct) =>
            db.OAuth2LoginSessions.AsNoTracking().TagWith(SqlitePreparedReads.Tag).FirstOrDefault(s => s.CookieHash == cookieHash && s.Remember && s.ExpiresAt > now)));

    public async Task SaveLoginSessionAsync(OAuth2LoginSession session, CancellationToken ct)
    {
        session.Nid = db.Nid;
        var updated = await db.OAuth2LoginSessions.Where(s => s.Id == session.Id).ExecuteUpdateAsync(u => u
            .SetProperty(s => s.Subject, session.Subject)
            .SetProperty(s => s.AuthenticatedAt, session.AuthenticatedAt)
            .SetProperty(s => s.Remember, session.Remember)
            .SetProperty(s => s.IdentityProviderSessionId, session.IdentityProviderSessionId)
            .SetProperty(s => s.CookieHash, session.CookieHash)
            .SetProperty(s => s.ExpiresAt, session.ExpiresAt), ct);
        if (updated == 1) return;
        db.OAuth2LoginSessions.Add(session);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }

    public async Task<IReadOnlyList<OAuth2LoginSession>> DeleteLoginSessionsAsync(Guid? id, string? subject, byte[]? cookieHash, CancellationToken ct)
    {
        if (id is null && subject is null && cookieHash is null) throw new ArgumentException("at least one filter is needed");
        var q = db.OAuth2LoginSessions.AsQueryable();
        if (id is { } i) q = q.Where(s => s.Id == i);
        if (subject is not null) q = q.Where(s => s.Subject == subject);
        if (cookieHash is not null) q = q.Where(s => s.CookieHash == cookieHash);
        var sessions = await q.AsNoTracking().ToListAsync(ct);
        if (sessions.Count == 0) return sessions;
        var ids = sessions.Select(s => s.Id).ToList();
        await db.OAuth2LoginSessions.Where(s => ids.Contains(s.Id)).ExecuteDeleteAsync(ct);
        return sessions;
    }

    public Task<List<OAuth2Flow>> ListConsentSessionsAsync(string subject, Guid? loginSessionId, Guid after, int limit, DateTime now, CancellationToken ct)
    {
        var q = db.OAuth2Flows.AsNoTracking()
            .Where(f => f.Subject == subject && f.State == OAuth2FlowState.ConsentUsed && !f.ConsentSkip && (f.ConsentExpiresAt == null || f.ConsentExpiresAt > now) && f.Pk > after);
        if (loginSessionId is { } sid) q = q.Where(f => f.LoginSessionId == sid);
        return q.OrderBy(f => f.Pk).Take(limit).ToListAsync(ct);
    }

    public async Task<int> RevokeConsentSessionsAsync(Guid? flowId, string? subject, string? clientId, CancellationToken ct)
    {
        var q = db.OAuth2Flows.Where(f => f.ConsentChallenge != null);
        if (flowId is { } id) q = q.Where(f => f.Pk == id);
        if (subject is not null) q = q.Where(f => f.Subject == subject);
        if (clientId is not null) q = q.Where(f => f.ClientId == clientId);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var ids = await q.Select(f => f.Pk).ToListAsync(ct);
        if (ids.Count == 0) return 0;
        // In chunks, so a subject with many grants stays within the providers' parameter limits.
        foreach (var chunk in ids.Chunk(500))
        {
            await db.OAuth2Tokens.Where(t => chunk.Contains(t.RequestId)).ExecuteDeleteAsync(ct);
            await db.OAuth2Flows.Where(f => chunk.Contains(f.Pk)).ExecuteDeleteAsync(ct);
        }
        await tx.CommitAsync(ct);
        return ids.Count;
    }

    public Task<OAuth2LoginSession?> FindLoginSessionAsync(Guid id, CancellationToken ct) =>
        db.OAuth2LoginSessions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct);

    public Task<List<string>> ListClientIdsOfLoginSessionAsync(string subject, Guid loginSessionId, CancellationToken ct) =>
        db.OAuth2Flows.AsNoTracking().Where(f => f.LoginSessionId == loginSessionId && f.Subject == subject)
            .Select(f => f.ClientId).Distinct().OrderBy(c => c).ToListAsync(ct);

    public async Task AddLogoutRequestAsync(OAuth2LogoutRequest request, CancellationToken ct)
    {
        request.Nid = db.Nid;
        db.OAuth2LogoutRequests.Add(request);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }

    public Task<OAuth2LogoutRequest?> FindLogoutRequestAsync(byte[] challenge, CancellationToken ct) =>
        db.OAuth2LogoutRequests.AsNoTracking().FirstOrDefaultAsync(r => r.Challenge == challenge, ct);

    public async Task<bool> AcceptLogoutRequestAsync(byte[] challenge, byte[] verifier, CancellationToken ct) =>
        await db.OAuth2LogoutRequests.Where(r => r.Challenge == challenge).ExecuteUpdateAsync(u => u
            .SetProperty(r => r.Accepted, true)
            .SetProperty(r => r.Rejected, false)
            .SetProperty(r => r.Verifier, verifier), ct) == 1;

    public async Task<bool> RejectLogoutRequestAsync(byte[] challenge, CancellationToken ct) =>
        await db.OAuth2LogoutRequests.Where(r => r.Challenge == challenge).ExecuteUpdateAsync(u => u
            .SetProperty(r => r.Accepted, false)
            .SetProperty(r => r.Rejected, true), ct) == 1;

    public async Task<(OAuth2LogoutRequest? Request, bool Spent)> SpendLogoutVerifierAsync(byte[] verifier, CancellationToken ct)
    {
        var spent = await db.OAuth2LogoutRequests.Where(r => r.Verifier == verifier && r.Accepted && !r.Rejected && !r.WasUsed)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.WasUsed, true), ct) == 1;
        var request = await db.OAuth2LogoutRequests.AsNoTracking().FirstOrDefaultAsync(r => r.Verifier == verifier, ct);
        return (request, spent);
    }

    public async Task SaveForcedSubjectIdentifierAsync(string clientId, string subject, string subjectObfuscated, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (await db.OAuth2ForcedSubjectIdentifiers.Where(f => f.ClientId == clientId && f.Subject == subject)
                .ExecuteUpdateAsync(u => u.SetProperty(f => f.SubjectObfuscated, subjectObfuscated), ct) == 1) return;
            db.OAuth2ForcedSubjectIdentifiers.Add(new OAuth2ForcedSubjectIdentifier { Nid = db.Nid, ClientId = clientId, Subject = subject, SubjectObfuscated = subjectObfuscated });
            try
            {
                await db.SaveChangesAsync(ct);
                return;
            }
            catch (DbUpdateException) when (attempt == 0)
            {
                // A concurrent login of the same subject inserted it first: update that row.
            }
            finally
            {
                db.ChangeTracker.Clear();
            }
        }
    }

    public Task<bool> IsForcedSubjectIdentifierAsync(string clientId, string subjectObfuscated, CancellationToken ct) =>
        db.OAuth2ForcedSubjectIdentifiers.AnyAsync(f => f.ClientId == clientId && f.SubjectObfuscated == subjectObfuscated, ct);
}
