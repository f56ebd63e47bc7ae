using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class OAuth2Flows : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "oauth2_flows",
                columns: table => new
                {
                    Pk = table.Column<Guid>(type: "TEXT", nullable: false),
                    Nid = table.Column<Guid>(type: "TEXT", nullable: false),
                    ClientId = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Subject = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    State = table.Column<int>(type: "INTEGER", nullable: false),
                    LoginChallenge = table.Column<byte[]>(type: "BLOB", nullable: false),
                    LoginVerifier = table.Column<byte[]>(type: "BLOB", nullable: true),
                    ConsentChallenge = table.Column<byte[]>(type: "BLOB", nullable: true),
                    ConsentVerifier = table.Column<byte[]>(type: "BLOB", nullable: true),
                    Request = table.Column<string>(type: "TEXT", nullable: false),
                    Login = table.Column<string>(type: "TEXT", nullable: false),
                    Consent = table.Column<string>(type: "TEXT", nullable: false),
                    ConsentRememberedUntil = table.Column<DateTime>(type: "TEXT", nullable: true),
                    RequestedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_oauth2_flows", x => x.Pk);
                });

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_flows_ConsentChallenge",
                table: "oauth2_flows",
                column: "ConsentChallenge",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_flows_ConsentVerifier",
                table: "oauth2_flows",
                column: "ConsentVerifier",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_flows_LoginChallenge",
                table: "oauth2_flows",
                column: "LoginChallenge",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_flows_LoginVerifier",
                table: "oauth2_flows",
                column: "LoginVerifier",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_flows_Nid_ClientId_Subject_State",
                table: "oauth2_flows",
                columns: new[] { "Nid", "ClientId", "Subject", "State" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "oauth2_flows");
        }
    }
}
