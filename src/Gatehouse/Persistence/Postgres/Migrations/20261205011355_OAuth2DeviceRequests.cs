using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Postgres.Migrations
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
                    Pk = table.Column<Guid>(type: "uuid", nullable: false),
                    Nid = table.Column<Guid>(type: "uuid", nullable: false),
                    Challenge = table.Column<byte[]>(type: "bytea", nullable: false),
                    Verifier = table.Column<byte[]>(type: "bytea", nullable: true),
                    Csrf = table.Column<byte[]>(type: "bytea", nullable: false),
                    DeviceRequestId = table.Column<Guid>(type: "uuid", nullable: true),
                    Attempts = table.Column<int>(type: "integer", nullable: false),
                    State = table.Column<int>(type: "integer", nullable: false),
                    RequestUrl = table.Column<string>(type: "text", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_oauth2_device_challenges", x => x.Pk);
                });

            migrationBuilder.CreateTable(
                name: "oauth2_device_requests",
                columns: table => new
                {
                    Pk = table.Column<Guid>(type: "uuid", nullable: false),
                    Nid = table.Column<Guid>(type: "uuid", nullable: false),
                    DeviceCode = table.Column<byte[]>(type: "bytea", nullable: false),
                    UserCode = table.Column<byte[]>(type: "bytea", nullable: false),
                    ClientId = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    Scope = table.Column<string>(type: "text", nullable: false),
                    Audience = table.Column<string>(type: "text", nullable: false),
                    State = table.Column<int>(type: "integer", nullable: false),
                    FlowId = table.Column<Guid>(type: "uuid", nullable: true),
                    PollInterval = table.Column<int>(type: "integer", nullable: false),
                    NextPollAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    RequestedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
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
