namespace Gatehouse.Persistence;

/// <summary>
/// One compiled EF query per database provider. A compiled query (<c>EF.CompileAsyncQuery</c>) binds itself to the
/// model of the first context it runs with, and the SQLite and PostgreSQL contexts have different models — one process
/// (the test suite) uses both — so each provider gets its own instance, compiled from the same expression on first use.
/// Written against <see cref="GatehouseDbContext"/>, a hot read then costs neither building its LINQ tree nor looking
/// it up in EF's query cache on every request.
/// <code>
/// private static readonly PerProvider&lt;Func&lt;GatehouseDbContext, Guid, CancellationToken, Task&lt;Row?&gt;&gt;&gt; ById = new(() =&gt;
///     EF.CompileAsyncQuery((GatehouseDbContext db, Guid id, CancellationToken ct) =&gt; db.Rows.AsNoTracking().FirstOrDefault(r =&gt; r.Id == id)));
/// ... ById.For(db)(db, id, ct)
/// </code>
/// </summary>
/// <typeparam name="TQuery">The compiled query's delegate type.</typeparam>
public sealed class PerProvider<TQuery>(Func<TQuery> compile)
    where TQuery : class
{
    private readonly Lazy<TQuery> _sqlite = new(compile);
    private readonly Lazy<TQuery> _postgres = new(compile);
    private readonly Lazy<TQuery> _other = new(compile);

    /// <summary>The compiled query for <paramref name="db"/>'s provider.</summary>
    public TQuery For(GatehouseDbContext db) => db switch
    {
        SqliteGatehouseDbContext => _sqlite.Value,
        PostgresGatehouseDbContext => _postgres.Value,
        _ => _other.Value,
    };
}
