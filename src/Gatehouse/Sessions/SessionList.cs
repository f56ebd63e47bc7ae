using Gatehouse.Http.Errors;
using Gatehouse.Http.Pagination;
using Gatehouse.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Sessions;

/// <summary>What a session response expands (Kratos's <c>expand</c> query: <c>identity</c>, <c>devices</c>).</summary>
public sealed record SessionExpand(bool Identity, bool Devices)
{
    public static readonly SessionExpand Everything = new(true, true);

    public static SessionExpand Parse(IQueryCollection query)
    {
        bool identity = false, devices = false;
        foreach (var raw in query["expand"])
        {
            switch (raw?.ToLowerInvariant())
            {
                case "identity": identity = true; break;
                case "devices": devices = true; break;
                default: throw GatehouseError.BadRequest($"Could not parse expand option: {raw}");
            }
        }
        return new SessionExpand(identity, devices);
    }
}

/// <summary>The parsed query of <c>GET /admin/sessions</c>.</summary>
public sealed record AdminSessionQuery(int PageSize, (DateTime CreatedAt, Guid Id)? After, bool? Active, SessionExpand Expand)
{
    public const int DefaultPageSize = 250;
    public const int MaxPageSize = 1000;

    public static AdminSessionQuery Parse(IQueryCollection query)
    {
        var size = KeysetPage.ParseSize(query, DefaultPageSize, MaxPageSize);
        var token = query["page_token"].ToString();
        (DateTime, Guid)? after = token.Length == 0 ? null : SessionPageToken.Decode(token);
        return new AdminSessionQuery(size, after, ParseActive(query), SessionExpand.Parse(query));
    }

    /// <summary>The optional <c>active</c> filter; Go's <c>strconv.ParseBool</c> spellings.</summary>
    public static bool? ParseActive(IQueryCollection query)
    {
        var raw = query["active"].ToString();
        return raw switch
        {
            "" => null,
            "1" or "t" or "T" or "TRUE" or "true" or "True" => true,
            "0" or "f" or "F" or "FALSE" or "false" or "False" => false,
            _ => throw GatehouseError.BadRequest("could not parse parameter active"),
        };
    }
}

/// <summary>Read-side queries over sessions: admin keyset pages, an identity's sessions, single lookups.</summary>
public sealed class SessionList(GatehouseDbContext db, TimeProvider time)
{
    public async Task<(List<Session> Page, bool HasMore)> ListAsync(AdminSessionQuery query, CancellationToken ct)
    {
        IQueryable<Session> q = Filter(db.Sessions.AsNoTracking(), query.Active);
        if (query.After is var (createdAt, id))
        {
            q = q.Where(s => s.CreatedAt < createdAt || (s.CreatedAt == createdAt && s.Id > id));
        }
        q = Expand(q.OrderByDescending(s => s.CreatedAt).ThenBy(s => s.Id).Take(query.PageSize + 1), query.Expand);
        var rows = await q.AsSplitQuery().ToListAsync(ct);
        var hasMore = rows.Count > query.PageSize;
        if (hasMore) rows.RemoveAt(rows.Count - 1);
        return (rows, hasMore);
    }

    public Task<Session?> FindAsync(Guid id, SessionExpand expand, CancellationToken ct) =>
        Expand(db.Sessions.AsNoTracking(), expand).AsSingleQuery().FirstOrDefaultAsync(s => s.Id == id, ct);

    /// <summary>An identity's sessions, newest first, with identity and devices; <paramref name="except"/> leaves one out (the caller's own).</summary>
    public async Task<(List<Session> Page, long Total)> ListByIdentityAsync(Guid identityId, bool? active, OffsetPage page, Guid? except, CancellationToken ct)
    {
        var q = Filter(db.Sessions.AsNoTracking().Where(s => s.IdentityId == identityId), active);
        if (except is { } skip) q = q.Where(s => s.Id != skip);
        var total = await q.LongCountAsync(ct);
        var rows = await Expand(q.OrderByDescending(s => s.CreatedAt).ThenBy(s => s.Id).Skip(page.Offset).Take(page.Size), SessionExpand.Everything)
            .AsSplitQuery().ToListAsync(ct);
        return (rows, total);
    }

    public Task<bool> IdentityExistsAsync(Guid identityId, CancellationToken ct) => db.Identities.AnyAsync(i => i.Id == identityId, ct);

    /// <summary>Kratos's <c>active</c> filter: true = not revoked and not expired; false = revoked or expired.</summary>
    private IQueryable<Session> Filter(IQueryable<Session> q, bool? active)
    {
        if (active is null) return q;
        var now = time.GetUtcNow().UtcDateTime;
        return active.Value ? q.Where(s => s.Active && s.ExpiresAt > now) : q.Where(s => !s.Active || s.ExpiresAt <= now);
    }

    private static IQueryable<Session> Expand(IQueryable<Session> q, SessionExpand expand)
    {
        if (expand.Identity) q = q.Include(s => s.Identity!).ThenInclude(i => i.VerifiableAddresses).Include(s => s.Identity!).ThenInclude(i => i.RecoveryAddresses);
        if (expand.Devices) q = q.Include(s => s.Devices);
        return q;
    }
}
