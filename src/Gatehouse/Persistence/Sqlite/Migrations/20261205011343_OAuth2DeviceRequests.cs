using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class OAuth2DeviceRequests : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "oauth2_device_challenges",
                columns: table => new
                {
                    Pk = table.Column<Guid>(type: "TEXT", nullable: false),
                    Nid = table.Column<Guid>(type: "TEXT", nullable: false),
                    Challenge = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Verifier = table.Column<byte[]>(type: "BLOB", nullable: true),
                    Csrf = table.Column<byte[]>(type: "BLOB", nullable: false),
                    DeviceRequestId = table.Column<Guid>(type: "TEXT", nullable: true),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    State = table.Column<int>(type: "INTEGER", nullable: false),
                    RequestUrl = table.Column<string>(type: "TEXT", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_oauth2_device_challenges", x => x.Pk);
                });

            migrationBuilder.CreateTable(
                name: "oauth2_device_requests",
                columns: table => new
                {
                    Pk = table.Column<Guid>(type: "TEXT", nullable: false),
                    Nid = table.Column<Guid>(type: "TEXT", nullable: false),
                    DeviceCode = table.Column<byte[]>(type: "BLOB", nullable: false),
                    UserCode = table.Column<byte[]>(type: "BLOB", nullable: false),
                    ClientId = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Scope = table.Column<string>(type: "TEXT", nullable: false),
                    Audience = table.Column<string>(type: "TEXT", nullable: false),
                    State = table.Column<int>(type: "INTEGER", nullable: false),
                    FlowId = table.Column<Guid>(type: "TEXT", nullable: true),
                    PollInterval = table.Column<int>(type: "INTEGER", nullable: false),
                    NextPollAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    RequestedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_oauth2_device_requests", x => x.Pk);
                });

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_device_challenges_Challenge",
                table: "oauth2_device_challenges",
                column: "Challenge",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_device_challenges_ExpiresAt",
                table: "oauth2_device_challenges",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_device_challenges_Verifier",
                table: "oauth2_device_challenges",
                column: "Verifier",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_device_requests_DeviceCode",
                table: "oauth2_device_requests",
                column: "DeviceCode",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_device_requests_ExpiresAt",
                table: "oauth2_device_requests",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_device_requests_UserCode",
                table: "oauth2_device_requests",
                column: "UserCode",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "oauth2_device_challenges");

            migrationBuilder.DropTable(
                name: "oauth2_device_requests");
        }
    }
}
