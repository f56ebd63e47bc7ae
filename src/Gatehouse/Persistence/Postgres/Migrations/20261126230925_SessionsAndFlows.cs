using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class SessionsAndFlows : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "selfservice_flows",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Nid = table.Column<Guid>(type: "uuid", nullable: false),
                    Kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Type = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    State = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    RequestUrl = table.Column<string>(type: "text", nullable: false),
                    ReturnTo = table.Column<string>(type: "text", nullable: true),
                    Active = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    CsrfToken = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    IssuedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Ui = table.Column<string>(type: "text", nullable: false),
                    Refresh = table.Column<bool>(type: "boolean", nullable: false),
                    RequestedAal = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: true),
                    IdentityId = table.Column<Guid>(type: "uuid", nullable: true),
                    InternalContext = table.Column<string>(type: "text", nullable: true),
                    TransientPayload = table.Column<string>(type: "text", nullable: true),
                    ContinueWith = table.Column<string>(type: "text", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_selfservice_flows", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "sessions",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Nid = table.Column<Guid>(type: "uuid", nullable: false),
                    IdentityId = table.Column<Guid>(type: "uuid", nullable: false),
                    TokenHash = table.Column<byte[]>(type: "bytea", nullable: false),
                    LogoutTokenHash = table.Column<byte[]>(type: "bytea", nullable: false),
                    Active = table.Column<bool>(type: "boolean", nullable: false),
                    AuthenticatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    IssuedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Aal = table.Column<string>(type: "character varying(8)", maxLength: 8, nullable: false),
                    AuthenticationMethods = table.Column<string>(type: "text", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_sessions", x => x.Id);
                    table.ForeignKey(
                        name: "FK_sessions_identities_IdentityId",
                        column: x => x.IdentityId,
                        principalTable: "identities",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "session_devices",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Nid = table.Column<Guid>(type: "uuid", nullable: false),
                    SessionId = table.Column<Guid>(type: "uuid", nullable: false),
                    IpAddress = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    UserAgent = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: true),
                    Location = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_session_devices", x => x.Id);
                    table.ForeignKey(
                        name: "FK_session_devices_sessions_SessionId",
                        column: x => x.SessionId,
                        principalTable: "sessions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_selfservice_flows_ExpiresAt",
                table: "selfservice_flows",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_selfservice_flows_Nid_Kind_Id",
                table: "selfservice_flows",
                columns: new[] { "Nid", "Kind", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_session_devices_SessionId",
                table: "session_devices",
                column: "SessionId");

            migrationBuilder.CreateIndex(
                name: "IX_sessions_IdentityId",
                table: "sessions",
                column: "IdentityId");

            migrationBuilder.CreateIndex(
                name: "IX_sessions_LogoutTokenHash",
                table: "sessions",
                column: "LogoutTokenHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_sessions_Nid_CreatedAt_Id",
                table: "sessions",
                columns: new[] { "Nid", "CreatedAt", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_sessions_Nid_IdentityId",
                table: "sessions",
                columns: new[] { "Nid", "IdentityId" });

            migrationBuilder.CreateIndex(
                name: "IX_sessions_TokenHash",
                table: "sessions",
                column: "TokenHash",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "selfservice_flows");

            migrationBuilder.DropTable(
                name: "session_devices");

            migrationBuilder.DropTable(
                name: "sessions");
        }
    }
}
