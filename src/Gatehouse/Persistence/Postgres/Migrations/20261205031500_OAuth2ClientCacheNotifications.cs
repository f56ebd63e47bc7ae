using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Postgres.Migrations
{
    /// <summary>
    /// Announces, after commit, the client id of every updated or deleted OAuth2 client on the channel the OAuth2 client
    /// cache listens to (<c>Persistence.OAuth2ClientChanges</c>, through the whoami cache's listener connection), so that
    /// a client changed, rotated or deleted on one instance is re-read by every other. New clients need no notice: the
    /// cache holds only clients it has read.
    /// </summary>
    public partial class OAuth2ClientCacheNotifications : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE FUNCTION gatehouse_notify_oauth2_client_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('gatehouse_oauth2_client_changes', OLD."ClientId");
                    RETURN NULL;
                END
                $$;
                """);
            migrationBuilder.Sql("CREATE TRIGGER gatehouse_oauth2_client_change AFTER UPDATE OR DELETE ON oauth2_clients FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_oauth2_client_change();");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS gatehouse_oauth2_client_change ON oauth2_clients;");
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS gatehouse_notify_oauth2_client_change();");
        }
    }
}
