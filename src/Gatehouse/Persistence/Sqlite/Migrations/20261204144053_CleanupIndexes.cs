using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class CleanupIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_sessions_Nid_ExpiresAt",
                table: "sessions",
                columns: new[] { "Nid", "ExpiresAt" });

            migrationBuilder.CreateIndex(
                name: "IX_selfservice_errors_Nid_CreatedAt",
                table: "selfservice_errors",
                columns: new[] { "Nid", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_selfservice_codes_Nid_ExpiresAt",
                table: "selfservice_codes",
                columns: new[] { "Nid", "ExpiresAt" });

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_tokens_Nid_ExpiresAt",
                table: "oauth2_tokens",
                columns: new[] { "Nid", "ExpiresAt" });

            migrationBuilder.CreateIndex(
                name: "IX_courier_messages_Nid_Status_UpdatedAt",
                table: "courier_messages",
                columns: new[] { "Nid", "Status", "UpdatedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_sessions_Nid_ExpiresAt",
                table: "sessions");

            migrationBuilder.DropIndex(
                name: "IX_selfservice_errors_Nid_CreatedAt",
                table: "selfservice_errors");

            migrationBuilder.DropIndex(
                name: "IX_selfservice_codes_Nid_ExpiresAt",
                table: "selfservice_codes");

            migrationBuilder.DropIndex(
                name: "IX_oauth2_tokens_Nid_ExpiresAt",
                table: "oauth2_tokens");

            migrationBuilder.DropIndex(
                name: "IX_courier_messages_Nid_Status_UpdatedAt",
                table: "courier_messages");
        }
    }
}
