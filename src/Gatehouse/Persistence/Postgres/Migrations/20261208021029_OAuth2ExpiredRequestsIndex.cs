using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class OAuth2ExpiredRequestsIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_oauth2_flows_expired_requests",
                table: "oauth2_flows",
                columns: new[] { "Nid", "ExpiresAt" },
                filter: "\"State\" <> 4");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_oauth2_flows_expired_requests",
                table: "oauth2_flows");
        }
    }
}
