using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Postgres.Migrations
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
                    Pk = table.Column<Guid>(type: "uuid", nullable: false),
                    Nid = table.Column<Guid>(type: "uuid", nullable: false),
                    Challenge = table.Column<byte[]>(type: "bytea", nullable: false),
                    Verifier = table.Column<byte[]>(type: "bytea", nullable: true),
                    Subject = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    SessionId = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    RequestUrl = table.Column<string>(type: "text", nullable: false),
                    RpInitiated = table.Column<bool>(type: "boolean", nullable: false),
                    PostLogoutRedirectUri = table.Column<string>(type: "text", nullable: false),
                    ClientId = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: true),
                    Accepted = table.Column<bool>(type: "boolean", nullable: false),
                    Rejected = table.Column<bool>(type: "boolean", nullable: false),
                    WasUsed = table.Column<bool>(type: "boolean", nullable: false),
                    RequestedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
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
