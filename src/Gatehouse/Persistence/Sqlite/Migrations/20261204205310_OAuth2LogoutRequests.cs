using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class OAuth2LogoutRequests : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "oauth2_logout_requests",
                columns: table => new
                {
                    Pk = table.Column<Guid>(type: "TEXT", nullable: false),
                    Nid = table.Column<Guid>(type: "TEXT", nullable: false),
                    Challenge = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Verifier = table.Column<byte[]>(type: "BLOB", nullable: true),
                    Subject = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    SessionId = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    RequestUrl = table.Column<string>(type: "TEXT", nullable: false),
                    RpInitiated = table.Column<bool>(type: "INTEGER", nullable: false),
                    PostLogoutRedirectUri = table.Column<string>(type: "TEXT", nullable: false),
                    ClientId = table.Column<string>(type: "TEXT", maxLength: 255, nullable: true),
                    Accepted = table.Column<bool>(type: "INTEGER", nullable: false),
                    Rejected = table.Column<bool>(type: "INTEGER", nullable: false),
                    WasUsed = table.Column<bool>(type: "INTEGER", nullable: false),
                    RequestedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_oauth2_logout_requests", x => x.Pk);
                });

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_logout_requests_Challenge",
                table: "oauth2_logout_requests",
                column: "Challenge",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_logout_requests_ExpiresAt",
                table: "oauth2_logout_requests",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_logout_requests_Verifier",
                table: "oauth2_logout_requests",
                column: "Verifier",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "oauth2_logout_requests");
        }
    }
}
