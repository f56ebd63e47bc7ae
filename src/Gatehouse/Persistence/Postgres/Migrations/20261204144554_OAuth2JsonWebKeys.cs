using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class OAuth2JsonWebKeys : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "oauth2_jwks",
                columns: table => new
                {
                    Pk = table.Column<Guid>(type: "uuid", nullable: false),
                    Nid = table.Column<Guid>(type: "uuid", nullable: false),
                    SetId = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    KeyId = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    PublicKey = table.Column<string>(type: "text", nullable: true),
                    EncryptedKey = table.Column<string>(type: "text", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_oauth2_jwks", x => x.Pk);
                });

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_jwks_Nid_SetId_CreatedAt",
                table: "oauth2_jwks",
                columns: new[] { "Nid", "SetId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_jwks_Nid_SetId_KeyId",
                table: "oauth2_jwks",
                columns: new[] { "Nid", "SetId", "KeyId" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "oauth2_jwks");
        }
    }
}
