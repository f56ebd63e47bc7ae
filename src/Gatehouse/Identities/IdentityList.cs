using System.Globalization;
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

        int size;
        var token = q["page_token"].ToString();
        if (q.ContainsKey("page") && !q.ContainsKey("page_token"))
        {
            // Legacy page/per_page pagination: Kratos refuses to enumerate deeper than 1000 items this way.
            size = KeysetPage.ParseSize(q, DefaultPageSize, MaxPageSize);
            if (!int.TryParse(q["page"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var page) || page < 0)
                throw GatehouseError.BadRequest("The page parameter must be a non-negative integer.");
            if ((long)page * size > 1000)
                throw GatehouseError.BadRequest("Legacy pagination is not supported for enumerating over 1000 items. Use keyset pagination with page_token instead.");
            throw GatehouseError.BadRequest("Legacy page-based pagination is not supported by Gatehouse; use page_size and page_token.");
        }
        size = KeysetPage.ParseSize(q, DefaultPageSize, MaxPageSize);
        var after = Guid.Empty;
        if (token.Length > 0 && !Guid.TryParse(token, out after)) throw GatehouseError.BadRequest(KeysetPage.InvalidToken);
        return new IdentityListQuery(size, after, parsedIds.Count > 0 ? parsedIds : null, identifier.Length > 0 ? identifier : null,
            similar.Length > 0 ? similar : null, orgId, include);
    }

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
        IQueryable<Identity> q = db.Identities.AsNoTracking();
        var withCredentials = query.IncludeCredential.Count > 0;
        if (query.CredentialsIdentifier is { } raw)
        {
            var normalized = IdentifierNormalizer.Graceful(raw);
            var ids = db.CredentialIdentifiers.Where(i => i.Identifier == normalized || i.Identifier == raw).Select(i => i.IdentityId);
            q = q.Where(i => ids.Contains(i.Id));
            withCredentials = true;
        }
        else if (query.SimilarTo is { } prefix)
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

        if (query.Ids is null) q = q.Where(i => i.Id > query.After).OrderBy(i => i.Id).Take(query.PageSize + 1);
        q = q.Include(i => i.VerifiableAddresses).Include(i => i.RecoveryAddresses);
        if (withCredentials) q = q.Include(i => i.Credentials).ThenInclude(c => c.Identifiers);
        var rows = await q.AsSplitQuery().ToListAsync(ct);
        var hasMore = query.Ids is null && rows.Count > query.PageSize;
        if (hasMore) rows.RemoveAt(rows.Count - 1);
        return (rows, hasMore);
    }

    public Task<Identity?> FindByExternalIdAsync(string externalId, bool withCredentials, CancellationToken ct)
    {
        IQueryable<Identity> q = db.Identities.AsNoTracking().Include(i => i.VerifiableAddresses).Include(i => i.RecoveryAddresses);
        if (withCredentials) q = q.Include(i => i.Credentials).ThenInclude(c => c.Identifiers);
        return q.AsSplitQuery().FirstOrDefaultAsync(i => i.ExternalId == externalId, ct);
    }
}
