using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Sqlite.Migrations
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
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "ConsentSkip",
                table: "oauth2_flows",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<Guid>(
                name: "LoginSessionId",
                table: "oauth2_flows",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "oauth2_login_sessions",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Nid = table.Column<Guid>(type: "TEXT", nullable: false),
                    Subject = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    AuthenticatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Remember = table.Column<bool>(type: "INTEGER", nullable: false),
                    IdentityProviderSessionId = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    CookieHash = table.Column<byte[]>(type: "BLOB", nullable: true),
                    ExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: false)
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
