using Gatehouse.Http.Errors;
using Gatehouse.Http.Pagination;
using Gatehouse.Persistence;
using Gatehouse.Schemas;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Identities;

/// <summary>The parsed query of <c>GET /admin/identities</c>.</summary>
public sealed record IdentityListQuery(
    int PageSize,
    Guid After,
    IReadOnlyList<Guid>? Ids,
    string? CredentialsIdentifier,
    string? SimilarTo,
    Guid? OrganizationId,
    IReadOnlySet<string> IncludeCredential)
{
    public const int DefaultPageSize = 250;
    public const int MaxPageSize = 500;
    public const int MaxIds = 500;

    public static IdentityListQuery Parse(IQueryCollection q)
    {
        var include = ParseInclude(q);
        var ids = q["ids"].Where(s => !string.IsNullOrEmpty(s)).ToList();
        var identifier = q["credentials_identifier"].ToString();
        var similar = q["preview_credentials_identifier_similar"].ToString();
        var org = q["organization_id"].ToString();
        var filters = (ids.Count > 0 ? 1 : 0) + (identifier.Length > 0 ? 1 : 0) + (similar.Length > 0 ? 1 : 0) + (org.Length > 0 ? 1 : 0);
        if (filters > 1) throw GatehouseError.BadRequest("You cannot combine multiple filters in this API");
        if (ids.Count > MaxIds) throw GatehouseError.BadRequest($"The number of ids to filter must not exceed {MaxIds}.");
        var parsedIds = ids.Select(s => Guid.TryParse(s, out var g) ? g : throw GatehouseError.BadRequest($"Invalid UUID value `{s}` for parameter `ids`.")).ToList();
        Guid? orgId = org.Length == 0 ? null : Guid.TryParse(org, out var o) ? o : throw GatehouseError.BadRequest($"Invalid UUID value `{org}` for parameter `organization_id`.");

        var filterIds = parsedIds.Count > 0 ? parsedIds : null;
        var filterIdentifier = identifier.Length > 0 ? identifier : null;
        var filterSimilar = similar.Length > 0 ? similar : null;
        // Legacy page/per_page pagination (Kratos's ParseKeysetOrPagePagination): only without page_token and page_size.
        if (LegacyPage.Parse(q) is { } legacy)
            return new IdentityListQuery(legacy.PerPage, Guid.Empty, filterIds, filterIdentifier, filterSimilar, orgId, include) { Legacy = legacy };
        var size = KeysetPage.ParseSize(q, DefaultPageSize, MaxPageSize);
        var token = q["page_token"].ToString();
        var after = Guid.Empty;
        if (token.Length > 0 && !Guid.TryParse(token, out after)) throw GatehouseError.BadRequest(KeysetPage.InvalidToken);
        return new IdentityListQuery(size, after, filterIds, filterIdentifier, filterSimilar, orgId, include);
    }

    /// <summary>
    /// The legacy page asked for with <c>page</c>/<c>per_page</c>, or null for keyset pages. A legacy page is an
    /// offset into every filter's matches in id order, the <c>ids</c> filter included (Kratos's LIMIT/OFFSET).
    /// </summary>
    public LegacyPage? Legacy { get; init; }

    public static IReadOnlySet<string> ParseInclude(IQueryCollection q)
    {
        var include = new HashSet<string>(StringComparer.Ordinal);
        foreach (var v in q["include_credential"])
        {
            if (string.IsNullOrEmpty(v)) continue;
            if (!CredentialTypes.Includable.Contains(v)) throw GatehouseError.BadRequest($"Invalid value `{v}` for parameter `include_credential`.");
            include.Add(v);
        }
        return include;
    }
}

/// <summary>Read-side queries over identities (keyset pages, identifier lookups).</summary>
public sealed class IdentityList(GatehouseDbContext db)
{
    public async Task<(List<Identity> Page, bool HasMore)> ListAsync(IdentityListQuery query, CancellationToken ct)
    {
        if (query.CredentialsIdentifier is { } raw) return await LookupByIdentifierAsync(raw, query, ct);
        IQueryable<Identity> q = db.Identities.AsNoTracking();
        var withCredentials = query.IncludeCredential.Count > 0;
        if (query.SimilarTo is { } prefix)
        {
            var normalized = IdentifierNormalizer.Graceful(prefix);
            var upper = normalized + "\uffff";
            var ids = db.CredentialIdentifiers
                .Where(i => string.Compare(i.Identifier, normalized) >= 0 && string.Compare(i.Identifier, upper) < 0)
                .Select(i => i.IdentityId);
            q = q.Where(i => ids.Contains(i.Id));
        }
        else if (query.Ids is { } list)
        {
            q = q.Where(i => list.Contains(i.Id));
        }
        else if (query.OrganizationId is { } org)
        {
            q = q.Where(i => i.OrganizationId == org);
        }

        if (query.Legacy is { } legacy) q = q.OrderBy(i => i.Id).Skip(legacy.Offset).Take(legacy.PerPage);
        else if (query.Ids is null) q = q.Where(i => i.Id > query.After).OrderBy(i => i.Id).Take(query.PageSize + 1);
        q = q.Include(i => i.VerifiableAddresses).Include(i => i.RecoveryAddresses);
        if (withCredentials) q = q.Include(i => i.Credentials).ThenInclude(c => c.Identifiers);
        var rows = await q.AsSplitQuery().ToListAsync(ct);
        var hasMore = query.Legacy is null && query.Ids is null && rows.Count > query.PageSize;
        if (hasMore) rows.RemoveAt(rows.Count - 1);
        return (rows, hasMore);
    }

    /// <summary>All identities (of this network), whatever the filter: the <c>X-Total-Count</c> of a legacy page, as Kratos's <c>CountIdentities</c>.</summary>
    public Task<int> CountAsync(CancellationToken ct) => db.Identities.CountAsync(ct);

    /// <summary>
    /// <c>credentials_identifier</c>: the identities (at most a page) holding that identifier, with addresses,
    /// credentials and the credentials' identifiers, in one statement (one round trip on PostgreSQL). The identity is
    /// found through the identifier index; its addresses, credentials and identifiers are each joined by identity id
    /// (an index seek each) and the identifiers attached to their credentials in memory. They are not loaded as
    /// <c>Credentials.Identifiers</c>: EF nests that as a derived table under the credentials' LEFT JOIN, which SQLite
    /// materialises by scanning every credential (measured: 190 ms at 100,000 identities).
    /// </summary>
    private async Task<(List<Identity> Page, bool HasMore)> LookupByIdentifierAsync(string raw, IdentityListQuery query, CancellationToken ct)
    {
        var normalized = IdentifierNormalizer.Graceful(raw);
        // As in the general listing, an explicit id list is not paged (Guid.Empty: no identity id is below it).
        var paged = query.Ids is null && query.Legacy is null;
        var rows = new List<Identity>();
        await foreach (var match in FindByIdentifier(db, normalized, raw, paged ? query.After : Guid.Empty).WithCancellation(ct))
        {
            var byCredential = match.Identifiers.ToLookup(x => x.CredentialId);
            foreach (var credential in match.Identity.Credentials) credential.Identifiers = [.. byCredential[credential.Id]];
            rows.Add(match.Identity);
        }
        // The page limit is applied here, not as SQL LIMIT: an identifier matches at most one identity per credential
        // type and spelling, and SQLite recompiles a statement whose LIMIT is a bound parameter every time it is bound
        // (sqlite3_stmt_status REPREPARE counted one per execution), i.e. EF's statement would be compiled twice.
        if (query.Legacy is { } legacy) return ([.. rows.Skip(legacy.Offset).Take(legacy.PerPage)], false);
        var hasMore = paged && rows.Count > query.PageSize;
        if (hasMore) rows.RemoveRange(query.PageSize, rows.Count - query.PageSize);
        return (rows, hasMore);
    }

    /// <summary>An identity found by identifier, with the identifiers of all its credentials.</summary>
    private sealed record IdentifierMatch(Identity Identity, List<CredentialIdentifier> Identifiers);

    /// <summary>
    /// The lookup as a compiled query, one per provider's context type (a compiled query is bound to the model it first
    /// ran with): building the LINQ tree and finding it in EF's query cache cost more CPU per request than the read.
    /// On SQLite its statement is prepared once per connection and kept (<see cref="SqlitePreparedReads"/>): compiling
    /// this five-table statement was the larger part of a lookup's cost.
    /// The page bound is on the identifier rows: on identities, SQLite walks the primary-key range (Id &gt; ?) and tests
    /// every identity against the IN list (~9 ms at 100,000) instead of seeking each id.
    /// </summary>
    private static readonly PerProvider<Func<GatehouseDbContext, string, string, Guid, IAsyncEnumerable<IdentifierMatch>>> ByIdentifier = new(() =>
            EF.CompileAsyncQuery((GatehouseDbContext db, string normalized, string raw, Guid after) => db.Identities.AsNoTracking()
                .Where(i => db.CredentialIdentifiers
                    .Where(c => (c.Identifier == normalized || c.Identifier == raw) && c.IdentityId > after)
                    .Select(c => c.IdentityId)
                    .Contains(i.Id))
                .OrderBy(i => i.Id)
                .Include(i => i.VerifiableAddresses)
                .Include(i => i.RecoveryAddresses)
                .Include(i => i.Credentials)
                .Select(i => new IdentifierMatch(i, db.CredentialIdentifiers.Where(c => c.IdentityId == i.Id).ToList()))
                .AsSingleQuery()
                .TagWith(SqlitePreparedReads.Tag)));

    private static IAsyncEnumerable<IdentifierMatch> FindByIdentifier(GatehouseDbContext db, string normalized, string raw, Guid after) =>
        ByIdentifier.For(db)(db, normalized, raw, after);

    public Task<Identity?> FindByExternalIdAsync(string externalId, bool withCredentials, CancellationToken ct)
    {
        IQueryable<Identity> q = db.Identities.AsNoTracking().Include(i => i.VerifiableAddresses).Include(i => i.RecoveryAddresses);
        if (withCredentials) q = q.Include(i => i.Credentials).ThenInclude(c => c.Identifiers);
        return q.AsSplitQuery().FirstOrDefaultAsync(i => i.ExternalId == externalId, ct);
    }
}
