using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http.Errors;
using Gatehouse.Identities;
using Gatehouse.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Sessions;

/// <summary>Where the session of a request came from (Kratos's <c>extractToken</c> precedence).</summary>
public enum SessionTokenSource
{
    Header,
    Cookie,
    Bearer,
}

/// <summary>The session a request carries, cached on the request once looked up.</summary>
public sealed record CurrentSession(Session Session, string Token, SessionTokenSource Source, DateTime? CookieExpiresAt);

/// <summary>
/// Issues, finds and refreshes sessions. Tokens are random and stored only as SHA-256 hashes; a request's session is
/// found by one indexed query. Scoped: it shares the request's <see cref="GatehouseDbContext"/>.
/// </summary>
public sealed class SessionManager(GatehouseDbContext db, GatehouseOptions options, SessionCookie cookie, TimeProvider time, WhoamiCache whoami)
{
    public const string SessionTokenHeader = "X-Session-Token";

    /// <summary>
    /// whoami's one query: the session by its token hash (unique index) with identity, addresses and devices joined.
    /// Compiled once per provider's context type (a compiled query is bound to the model it first ran with): building
    /// and looking up the LINQ expression on every request cost more CPU than the read itself. Not tagged as a
    /// <see cref="SqlitePreparedReads"/> read: with the tag, a browser UI test failed twice (of three runs, on a busy
    /// machine) waiting for the welcome page after a login; not reproduced since (four quiet runs, and 600 concurrent
    /// issue → whoami → revoke → whoami probes all answered right), so the cause is unknown and whoami stays on EF's
    /// own connection until it is understood. Repeated whoamis are answered by <see cref="WhoamiCache"/>.
    /// </summary>
    private static readonly PerProvider<Func<GatehouseDbContext, byte[], CancellationToken, Task<Session?>>> ByTokenHash = new(() =>
        EF.CompileAsyncQuery((GatehouseDbContext db, byte[] hash, CancellationToken ct) => db.Sessions.AsNoTracking()
            .Include(s => s.Identity!).ThenInclude(i => i.VerifiableAddresses)
            .Include(s => s.Identity!).ThenInclude(i => i.RecoveryAddresses)
            .Include(s => s.Devices)
            .AsSingleQuery()
            .FirstOrDefault(s => s.TokenHash == hash)));

    private static Task<Session?> FindByTokenHashAsync(GatehouseDbContext db, byte[] hash, CancellationToken ct) => ByTokenHash.For(db)(db, hash, ct);

    /// <summary>
    /// Creates an active aal1-or-better session for <paramref name="identity"/> with one device read from the request,
    /// and saves it (with anything else pending in the context, in one <c>SaveChanges</c>). The returned session is not tracked and has its
    /// <see cref="Session.Identity"/> set.
    /// </summary>
    public async Task<IssuedSession> IssueAsync(Identity identity, AuthenticationMethod method, HttpContext http, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(http);
        if (identity.State != IdentityStates.Active) throw new GatehouseError(400, "This account was disabled.", "identity_disabled");

        var now = Now();
        var token = SessionTokens.NewSessionToken();
        var logoutToken = SessionTokens.LogoutTokenFor(token);
        var methods = new JsonArray { SessionJson.MethodNode(method) };
        var session = new Session
        {
            Id = Guid.CreateVersion7(),
            Nid = db.Nid,
            IdentityId = identity.Id,
            TokenHash = SessionTokens.Hash(token),
            LogoutTokenHash = SessionTokens.Hash(logoutToken),
            Active = true,
            AuthenticatedAt = now,
            IssuedAt = now,
            ExpiresAt = now + options.Session.Lifespan,
            Aal = AssuranceLevel(methods),
            AuthenticationMethods = SessionJson.SerializeMethods(methods),
            CreatedAt = now,
            UpdatedAt = now,
        };
        var device = SessionDeviceReader.FromRequest(http, db.Nid, session.Id, now, options.Session.Devices.LocationHeaders);
        session.Devices.Add(device);
        if (db.ChangeTracker.HasChanges())
        {
            // Something else is pending in the context: saved with the session, in one SaveChanges.
            db.Sessions.Add(session);
            await db.SaveChangesAsync(ct);
            // Detached so that setting the navigation below never makes EF insert (or track) the caller's identity.
            db.Entry(device).State = EntityState.Detached;
            db.Entry(session).State = EntityState.Detached;
        }
        else await InsertAsync(session, device, ct);
        session.Identity = identity;
        return new IssuedSession(session, token, logoutToken);
    }

    /// <summary>
    /// The session and its device in one command (every sign-in writes them; EF's change tracking costs more than the
    /// two inserts). Both or neither: held in a flow submit's unit of work, they commit in its transaction; otherwise
    /// PostgreSQL runs one command's statements as one implicit transaction, and SQLite gets an explicit one unless the
    /// caller has one open. A new session is in no whoami cache, so nothing to invalidate.
    /// </summary>
    private async Task InsertAsync(Session session, SessionDevice device, CancellationToken ct)
    {
        // A flow submit's unit of work: held for its commit (one transaction with the flow's update).
        if (RawSql.TryHold(db, InsertSql(session, device))) return;
        // On SQLite outside a transaction: one command on a kept prepared statement, in a transaction of its own there.
        if (SqlitePreparedReads.For(db) is not null)
        {
            await RawSql.ExecuteKeptAtomicAsync(db, InsertSql(session, device), ct);
            return;
        }
        var own = db.Database.CurrentTransaction is null && db.Database.IsSqlite() ? await db.Database.BeginTransactionAsync(ct) : null;
        try
        {
            await RawSql.ExecuteAsync(db, InsertSql(session, device), ct);
            if (own is not null) await own.CommitAsync(ct);
        }
        finally
        {
            if (own is not null) await own.DisposeAsync();
        }
    }

    private static FormattableString InsertSql(Session session, SessionDevice device) => $"""
        INSERT INTO sessions ("Id", "Nid", "IdentityId", "TokenHash", "LogoutTokenHash", "Active", "AuthenticatedAt", "IssuedAt",
            "ExpiresAt", "Aal", "AuthenticationMethods", "CreatedAt", "UpdatedAt")
        VALUES ({session.Id}, {session.Nid}, {session.IdentityId}, {session.TokenHash}, {session.LogoutTokenHash}, {session.Active},
            {session.AuthenticatedAt}, {session.IssuedAt}, {session.ExpiresAt}, {session.Aal}, {session.AuthenticationMethods},
            {session.CreatedAt}, {session.UpdatedAt});
        INSERT INTO session_devices ("Id", "Nid", "SessionId", "IpAddress", "UserAgent", "Location", "CreatedAt", "UpdatedAt")
        VALUES ({device.Id}, {device.Nid}, {device.SessionId}, {device.IpAddress}, {device.UserAgent}, {device.Location},
            {device.CreatedAt}, {device.UpdatedAt});
        """;

    /// <summary>
    /// Re-authentication of an existing session (login with <c>refresh=true</c>, or an <c>aal=aal2</c> login completing
    /// it): new authenticated_at and expiry, one more method.
    /// </summary>
    public Task<Session> RefreshAsync(Session session, AuthenticationMethod method, CancellationToken ct) => AppendMethodAsync(session, method, reauthenticated: true, ct);

    /// <summary>
    /// A method completed within a session without signing in again (Kratos's <c>SessionAddAuthenticationMethods</c>, e.g.
    /// a TOTP app enrolled in settings): the method is appended and the level recomputed; authenticated_at and the expiry stay.
    /// </summary>
    public Task<Session> AddMethodAsync(Session session, AuthenticationMethod method, CancellationToken ct) => AppendMethodAsync(session, method, reauthenticated: false, ct);

    private async Task<Session> AppendMethodAsync(Session session, AuthenticationMethod method, bool reauthenticated, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(method);
        var now = Now();
        var methods = SessionJson.ParseMethods(session.AuthenticationMethods);
        methods.Add(SessionJson.MethodNode(method));
        var stored = SessionJson.SerializeMethods(methods);
        var aal = AssuranceLevel(methods);
        var authenticatedAt = reauthenticated ? now : session.AuthenticatedAt;
        var expiresAt = reauthenticated ? now + options.Session.Lifespan : session.ExpiresAt;
        var updated = await db.Sessions.Where(s => s.Id == session.Id).ExecuteUpdateAsync(u => u
            .SetProperty(s => s.AuthenticatedAt, s => reauthenticated ? authenticatedAt : s.AuthenticatedAt)
            .SetProperty(s => s.ExpiresAt, s => reauthenticated ? expiresAt : s.ExpiresAt)
            .SetProperty(s => s.AuthenticationMethods, stored)
            .SetProperty(s => s.Aal, aal)
            .SetProperty(s => s.UpdatedAt, now), ct);
        whoami.Invalidate(session.Id);
        if (updated == 0) throw NotFound();
        session.AuthenticatedAt = authenticatedAt;
        session.ExpiresAt = expiresAt;
        session.AuthenticationMethods = stored;
        session.Aal = aal;
        session.UpdatedAt = now;
        return session;
    }

    /// <summary>
    /// The active session of the request, from <c>X-Session-Token</c>, then the session cookie, then
    /// <c>Authorization: Bearer</c>; null when there is none or it is revoked, expired, or its identity is inactive.
    /// Loads identity (with addresses) and devices in a single query; never throws for malformed input.
    /// </summary>
    public async Task<Session?> FromRequestAsync(HttpContext http, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (http.Features.Get<CurrentSession>() is { } cached) return cached.Session;
        if (!TryExtractToken(http, out var token, out var source, out var cookieExpiresAt)) return null;

        var hash = SessionTokens.Hash(token);
        var session = await FindByTokenHashAsync(db, hash, ct);
        if (session is null || !CryptographicOperations.FixedTimeEquals(session.TokenHash, hash)) return null;
        if (session.Identity is null || !SessionJson.IsActive(session, Now())) return null;
        http.Features.Set(new CurrentSession(session, token, source, cookieExpiresAt));
        return session;
    }

    /// <summary>The session of the request with how it was presented; null as for <see cref="FromRequestAsync"/>.</summary>
    public async Task<CurrentSession?> CurrentAsync(HttpContext http, CancellationToken ct) =>
        await FromRequestAsync(http, ct) is null ? null : http.Features.Get<CurrentSession>();

    /// <summary>Like <see cref="CurrentAsync"/>, but a missing session is <paramref name="missing"/> (by default Kratos's whoami 401).</summary>
    public async Task<CurrentSession> RequireAsync(HttpContext http, CancellationToken ct, Func<GatehouseError>? missing = null) =>
        await CurrentAsync(http, ct) ?? throw (missing ?? NoActiveSession)();

    public void WriteCookie(HttpContext http, IssuedSession issued)
    {
        ArgumentNullException.ThrowIfNull(issued);
        cookie.Write(http, issued.Token, issued.Session.ExpiresAt);
    }

    /// <summary>Writes the cookie again for a known token, e.g. when the session outlives the cookie after an extend.</summary>
    public void WriteCookie(HttpContext http, string token, DateTime expiresAt) => cookie.Write(http, token, expiresAt);

    public void ClearCookie(HttpContext http) => cookie.Clear(http);

    /// <summary>
    /// Gives an active session a new token (and logout token), replacing the one it was issued with, and returns the
    /// session (identity loaded) with the token; null when the session is gone, revoked or expired. The session token
    /// exchange hands out a token this way: the token issued when the browser finished the flow was never shown.
    /// </summary>
    public async Task<(Session Session, string Token)?> ReissueTokenAsync(Guid sessionId, CancellationToken ct)
    {
        var token = SessionTokens.NewSessionToken();
        var hash = SessionTokens.Hash(token);
        var logoutHash = SessionTokens.Hash(SessionTokens.LogoutTokenFor(token));
        var now = Now();
        var changed = await db.Sessions.Where(s => s.Id == sessionId && s.Active && s.ExpiresAt > now)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.TokenHash, hash).SetProperty(s => s.LogoutTokenHash, logoutHash).SetProperty(s => s.UpdatedAt, now), ct);
        whoami.Invalidate(sessionId);
        if (changed == 0) return null;
        var session = await FindByTokenHashAsync(db, hash, ct);
        if (session?.Identity is null || !SessionJson.IsActive(session, now)) return null;
        return (session, token);
    }

    /// <summary>The session with its identity if it is still active (not revoked, not expired, its identity active); else null.</summary>
    public async Task<Session?> FindActiveAsync(Guid sessionId, CancellationToken ct)
    {
        var session = await db.Sessions.AsNoTracking().Include(s => s.Identity).FirstOrDefaultAsync(s => s.Id == sessionId, ct);
        return session?.Identity is not null && SessionJson.IsActive(session, Now()) ? session : null;
    }

    /// <summary>Marks a session revoked; false when no such session exists.</summary>
    public async Task<bool> RevokeAsync(Guid sessionId, CancellationToken ct)
    {
        var now = Now();
        var revoked = await db.Sessions.Where(s => s.Id == sessionId)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.Active, false).SetProperty(s => s.UpdatedAt, now), ct) > 0;
        whoami.Invalidate(sessionId);
        return revoked;
    }

    /// <summary>Revokes the session a plaintext session token names; false when the token names none.</summary>
    public async Task<bool> RevokeByTokenAsync(string token, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(token) || token.Length > SessionTokens.MaxTokenLength) return false;
        var hash = SessionTokens.Hash(token);
        // By id, so that the whoami cache can be told which session it was.
        var sessionId = await db.Sessions.Where(s => s.TokenHash == hash).Select(s => (Guid?)s.Id).FirstOrDefaultAsync(ct);
        return sessionId is { } id && await RevokeAsync(id, ct);
    }

    /// <summary>Revokes every other active session of the identity (DELETE /sessions); returns how many.</summary>
    public async Task<int> RevokeOthersAsync(Guid identityId, Guid keep, CancellationToken ct)
    {
        var now = Now();
        var revoked = await db.Sessions.Where(s => s.IdentityId == identityId && s.Id != keep && s.Active)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.Active, false).SetProperty(s => s.UpdatedAt, now), ct);
        // The kept session's answer goes too (it is keyed by identity as well): the price of one key for all others.
        whoami.Invalidate(identityId);
        return revoked;
    }

    /// <summary>Revokes one session of the identity (DELETE /sessions/{id}); false when it is not theirs or does not exist.</summary>
    public async Task<bool> RevokeOwnAsync(Guid identityId, Guid sessionId, CancellationToken ct)
    {
        var now = Now();
        var revoked = await db.Sessions.Where(s => s.IdentityId == identityId && s.Id == sessionId)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.Active, false).SetProperty(s => s.UpdatedAt, now), ct) > 0;
        whoami.Invalidate(sessionId);
        return revoked;
    }

    /// <summary>
    /// PATCH /admin/sessions/{id}/extend: the expiry moves to now + lifespan only once fewer than
    /// <c>session.earliest_possible_extend</c> remain (Kratos: <c>expires_at - earliest_possible_extend &lt; now</c>).
    /// False when the session does not exist.
    /// </summary>
    public async Task<bool> ExtendAsync(Guid sessionId, CancellationToken ct)
    {
        var now = Now();
        var earliest = options.Session.EarliestPossibleExtend ?? options.Session.Lifespan;
        var expiresAt = now + options.Session.Lifespan;
        var threshold = now + earliest;
        var extended = await db.Sessions.Where(s => s.Id == sessionId && s.ExpiresAt < threshold)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.ExpiresAt, expiresAt).SetProperty(s => s.UpdatedAt, now), ct);
        if (extended > 0) whoami.Invalidate(sessionId);
        return extended > 0 || await db.Sessions.AnyAsync(s => s.Id == sessionId, ct);
    }

    /// <summary>
    /// Bulk disable (only sessions still active count) or delete of <paramref name="matching"/> (a query over this
    /// context's sessions). The caller invalidates the whoami answers, since only it knows which keys it matched.
    /// </summary>
    public async Task<int> DisableOrDeleteAsync(IQueryable<Session> matching, bool disable, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(matching);
        var now = Now();
        return disable
            ? await matching.Where(s => s.Active).ExecuteUpdateAsync(u => u.SetProperty(s => s.Active, false).SetProperty(s => s.UpdatedAt, now), ct)
            : await matching.ExecuteDeleteAsync(ct);
    }

    /// <summary>DELETE /admin/identities/{id}/sessions: removes the rows for good.</summary>
    public async Task<int> DeleteByIdentityAsync(Guid identityId, CancellationToken ct)
    {
        var deleted = await db.Sessions.Where(s => s.IdentityId == identityId).ExecuteDeleteAsync(ct);
        whoami.Invalidate(identityId);
        return deleted;
    }

    /// <summary>The 401 whoami answers without a usable session (Kratos's <c>ErrNoSessionFound</c>: no id).</summary>
    public static GatehouseError NoActiveSession() => GatehouseError.Unauthorized("No valid session credentials found in the request.");

    /// <summary>
    /// The 401 the caller's own-session endpoints (<c>GET</c>/<c>DELETE /sessions</c>, <c>DELETE /sessions/{id}</c>) answer
    /// without a usable session: Kratos's <c>herodot.ErrUnauthorized</c> with its own reason, no id (session/handler.go).
    /// </summary>
    public static GatehouseError NoValidSessionCookie() => GatehouseError.Unauthorized("No valid session cookie found.");

    /// <summary>
    /// Kratos's <c>ErrNoActiveSessionFound</c> (<c>session_inactive</c>), the error of its session lookup, which the
    /// endpoints that pass it on unchanged answer (logout, the settings flow).
    /// </summary>
    public static GatehouseError NoActiveSessionFound() => NoActiveSessionFound("No active session was found in this request.");

    /// <summary><see cref="NoActiveSessionFound()"/> with another reason (Kratos sets one where its middleware refuses).</summary>
    public static GatehouseError NoActiveSessionFound(string reason) =>
        new(401, reason, "session_inactive", "request does not have a valid authentication session");

    public static GatehouseError NotFound() => GatehouseError.NotFound("Unable to locate the resource");

    /// <summary>
    /// Kratos's <c>SetAuthenticatorAssuranceLevel</c>: aal2 needs an aal1 and an aal2 method; any method gives at least
    /// aal1. A social sign-in at aal2 (its provider reported multi-factor authentication, <c>aal2_acr_values</c> /
    /// <c>aal2_amr_values</c>) is both on its own: the provider did the second factor.
    /// </summary>
    public static string AssuranceLevel(JsonArray methods)
    {
        var entries = methods.OfType<JsonObject>().Select(m => (Aal: m["aal"]?.GetValue<string>(), Method: m["method"]?.GetValue<string>())).ToList();
        if (entries.Count == 0) return "aal0";
        var aal2 = entries.Any(e => e.Aal == "aal2");
        var aal1 = entries.Any(e => e.Aal == "aal1" || (e.Aal == "aal2" && e.Method is "oidc" or "saml"));
        return aal1 && aal2 ? "aal2" : "aal1";
    }

    /// <summary>The session token a request presents (header, cookie, bearer; see <see cref="FromRequestAsync"/>), unchecked.</summary>
    public bool TryExtractToken(HttpContext http, out string token, out SessionTokenSource source, out DateTime? cookieExpiresAt)
    {
        ArgumentNullException.ThrowIfNull(http);
        cookieExpiresAt = null;
        var headers = http.Request.Headers;
        token = headers[SessionTokenHeader].ToString().Trim();
        source = SessionTokenSource.Header;
        if (token.Length == 0)
        {
            if (cookie.TryRead(http, out var fromCookie, out var expiry))
            {
                token = fromCookie;
                source = SessionTokenSource.Cookie;
                cookieExpiresAt = expiry;
            }
            else
            {
                var authorization = headers.Authorization.ToString();
                token = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : "";
                source = SessionTokenSource.Bearer;
            }
        }
        return token.Length > 0 && token.Length <= SessionTokens.MaxTokenLength;
    }

    /// <summary>The header Kratos's <c>feature_flags.cacheable_sessions</c> adds to whoami answers, for an edge cache.</summary>
    public const string SessionCacheForHeader = "Ory-Session-Cache-For";

    /// <summary>
    /// Kratos's <c>feature_flags.cacheable_sessions</c> (session/handler.go <c>whoami</c>): a whoami answer without
    /// <c>tokenize_as</c> says for how many seconds it may be cached (until the session expires, at most
    /// <c>feature_flags.cacheable_sessions_max_age</c> when that is set), and a 401 to a request that carried no
    /// credentials at all may be cached for 60 s. Nothing is added with the flag off.
    /// </summary>
    public bool CacheableSessions => options.FeatureFlags.CacheableSessions;

    /// <summary>The seconds a whoami answer for a session expiring at <paramref name="expiresAt"/> may be cached (Go's <c>%0.f</c>).</summary>
    public string SessionCacheFor(DateTime expiresAt)
    {
        var expiry = expiresAt - time.GetUtcNow().UtcDateTime;
        var max = options.FeatureFlags.CacheableSessionsMaxAge;
        if (max > TimeSpan.Zero && expiry > max) expiry = max;
        return Math.Round(expiry.TotalSeconds, MidpointRounding.ToEven).ToString("0", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Now, at the microsecond precision both databases keep, so stored and returned times agree.</summary>
    private DateTime Now()
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - now.Ticks % 10, DateTimeKind.Utc);
    }
}
