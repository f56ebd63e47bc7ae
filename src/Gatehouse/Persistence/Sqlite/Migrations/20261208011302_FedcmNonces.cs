using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class FedcmNonces : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "selfservice_fedcm_nonces",
                columns: table => new
                {
                    Pk = table.Column<Guid>(type: "TEXT", nullable: false),
                    Nid = table.Column<Guid>(type: "TEXT", nullable: false),
                    Signature = table.Column<byte[]>(type: "BLOB", nullable: false),
                    BrowserSignature = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Provider = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_selfservice_fedcm_nonces", x => x.Pk);
                });

            migrationBuilder.CreateIndex(
                name: "IX_selfservice_fedcm_nonces_Nid_BrowserSignature",
                table: "selfservice_fedcm_nonces",
                columns: new[] { "Nid", "BrowserSignature" });

            migrationBuilder.CreateIndex(
                name: "IX_selfservice_fedcm_nonces_Nid_ExpiresAt",
                table: "selfservice_fedcm_nonces",
                columns: new[] { "Nid", "ExpiresAt" });

            migrationBuilder.CreateIndex(
                name: "IX_selfservice_fedcm_nonces_Nid_Signature",
                table: "selfservice_fedcm_nonces",
                columns: new[] { "Nid", "Signature" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "selfservice_fedcm_nonces");
        }
    }
}
