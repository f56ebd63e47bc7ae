using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Postgres.Migrations
{
    /// <summary>
    /// Announces, after commit, the session or identity id of every updated or deleted row that a cached whoami
    /// answer is made of (<c>Sessions.WhoamiCacheListener</c> listens on the channel). Row triggers: PostgreSQL
    /// folds identical notifications of one transaction into one.
    /// </summary>
    public partial class WhoamiCacheNotifications : Migration
    {
        private static readonly (string Table, string Column)[] Watched =
        [
            ("sessions", "Id"),
            ("session_devices", "SessionId"),
            ("identities", "Id"),
            ("identity_verifiable_addresses", "IdentityId"),
            ("identity_recovery_addresses", "IdentityId"),
        ];

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE FUNCTION gatehouse_notify_session_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('gatehouse_session_changes', to_jsonb(OLD) ->> TG_ARGV[0]);
                    RETURN NULL;
                END
                $$;
                """);
            foreach (var (table, column) in Watched)
            {
                migrationBuilder.Sql($"CREATE TRIGGER gatehouse_session_change AFTER UPDATE OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_session_change('{column}');");
            }
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            foreach (var (table, _) in Watched) migrationBuilder.Sql($"DROP TRIGGER IF EXISTS gatehouse_session_change ON {table};");
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS gatehouse_notify_session_change();");
        }
    }
}
