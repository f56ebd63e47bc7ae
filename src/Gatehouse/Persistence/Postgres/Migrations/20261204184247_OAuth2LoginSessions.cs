using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class OAuth2LoginSessions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "ConsentExpiresAt",
                table: "oauth2_flows",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "ConsentSkip",
                table: "oauth2_flows",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<Guid>(
                name: "LoginSessionId",
                table: "oauth2_flows",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "oauth2_login_sessions",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Nid = table.Column<Guid>(type: "uuid", nullable: false),
                    Subject = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    AuthenticatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Remember = table.Column<bool>(type: "boolean", nullable: false),
                    IdentityProviderSessionId = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    CookieHash = table.Column<byte[]>(type: "bytea", nullable: true),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_oauth2_login_sessions", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_flows_Nid_Subject_State",
                table: "oauth2_flows",
                columns: new[] { "Nid", "Subject", "State" });

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_login_sessions_CookieHash",
                table: "oauth2_login_sessions",
                column: "CookieHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_login_sessions_ExpiresAt",
                table: "oauth2_login_sessions",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_login_sessions_Nid_Subject",
                table: "oauth2_login_sessions",
                columns: new[] { "Nid", "Subject" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "oauth2_login_sessions");

            migrationBuilder.DropIndex(
                name: "IX_oauth2_flows_Nid_Subject_State",
                table: "oauth2_flows");

            migrationBuilder.DropColumn(
                name: "ConsentExpiresAt",
                table: "oauth2_flows");

            migrationBuilder.DropColumn(
                name: "ConsentSkip",
                table: "oauth2_flows");

            migrationBuilder.DropColumn(
                name: "LoginSessionId",
                table: "oauth2_flows");
        }
    }
}
