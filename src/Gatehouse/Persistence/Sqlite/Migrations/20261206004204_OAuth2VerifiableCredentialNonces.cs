using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class OAuth2VerifiableCredentialNonces : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "oauth2_vc_nonces",
                columns: table => new
                {
                    Pk = table.Column<Guid>(type: "TEXT", nullable: false),
                    Nid = table.Column<Guid>(type: "TEXT", nullable: false),
                    Signature = table.Column<byte[]>(type: "BLOB", nullable: false),
                    AccessTokenSignature = table.Column<byte[]>(type: "BLOB", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_oauth2_vc_nonces", x => x.Pk);
                });

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_vc_nonces_Nid_AccessTokenSignature",
                table: "oauth2_vc_nonces",
                columns: new[] { "Nid", "AccessTokenSignature" });

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_vc_nonces_Nid_ExpiresAt",
                table: "oauth2_vc_nonces",
                columns: new[] { "Nid", "ExpiresAt" });

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_vc_nonces_Nid_Signature",
                table: "oauth2_vc_nonces",
                columns: new[] { "Nid", "Signature" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "oauth2_vc_nonces");
        }
    }
}
