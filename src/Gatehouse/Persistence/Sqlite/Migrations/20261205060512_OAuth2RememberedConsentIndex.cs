using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class OAuth2RememberedConsentIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_oauth2_flows_remembered_consents",
                table: "oauth2_flows",
                columns: new[] { "Nid", "ClientId", "Subject", "State", "RequestedAt" },
                filter: "\"ConsentRememberedUntil\" IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_oauth2_flows_remembered_consents",
                table: "oauth2_flows");
        }
    }
}
