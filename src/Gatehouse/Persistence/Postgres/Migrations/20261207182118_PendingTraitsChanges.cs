using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class PendingTraitsChanges : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "identity_pending_traits_changes",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Nid = table.Column<Guid>(type: "uuid", nullable: false),
                    IdentityId = table.Column<Guid>(type: "uuid", nullable: false),
                    SessionId = table.Column<Guid>(type: "uuid", nullable: true),
                    OriginSettingsFlowId = table.Column<Guid>(type: "uuid", nullable: false),
                    VerificationFlowId = table.Column<Guid>(type: "uuid", nullable: false),
                    NewAddressValue = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: false),
                    NewAddressVia = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    OriginalTraitsHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ProposedTraits = table.Column<string>(type: "text", nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_identity_pending_traits_changes", x => x.Id);
                    table.ForeignKey(
                        name: "FK_identity_pending_traits_changes_identities_IdentityId",
                        column: x => x.IdentityId,
                        principalTable: "identities",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_identity_pending_traits_changes_selfservice_flows_OriginSet~",
                        column: x => x.OriginSettingsFlowId,
                        principalTable: "selfservice_flows",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_identity_pending_traits_changes_selfservice_flows_Verificat~",
                        column: x => x.VerificationFlowId,
                        principalTable: "selfservice_flows",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_identity_pending_traits_changes_sessions_SessionId",
                        column: x => x.SessionId,
                        principalTable: "sessions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateIndex(
                name: "IX_identity_pending_traits_changes_IdentityId",
                table: "identity_pending_traits_changes",
                column: "IdentityId");

            migrationBuilder.CreateIndex(
                name: "IX_identity_pending_traits_changes_Nid_IdentityId_Status",
                table: "identity_pending_traits_changes",
                columns: new[] { "Nid", "IdentityId", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_identity_pending_traits_changes_Nid_VerificationFlowId",
                table: "identity_pending_traits_changes",
                columns: new[] { "Nid", "VerificationFlowId" });

            migrationBuilder.CreateIndex(
                name: "IX_identity_pending_traits_changes_OriginSettingsFlowId",
                table: "identity_pending_traits_changes",
                column: "OriginSettingsFlowId");

            migrationBuilder.CreateIndex(
                name: "IX_identity_pending_traits_changes_SessionId",
                table: "identity_pending_traits_changes",
                column: "SessionId");

            migrationBuilder.CreateIndex(
                name: "IX_identity_pending_traits_changes_VerificationFlowId",
                table: "identity_pending_traits_changes",
                column: "VerificationFlowId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "identity_pending_traits_changes");
        }
    }
}
