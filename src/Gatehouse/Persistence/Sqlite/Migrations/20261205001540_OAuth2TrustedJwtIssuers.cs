using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class OAuth2TrustedJwtIssuers : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "oauth2_trusted_jwt_issuers",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Nid = table.Column<Guid>(type: "TEXT", nullable: false),
                    Issuer = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Subject = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    AllowAnySubject = table.Column<bool>(type: "INTEGER", nullable: false),
                    Scope = table.Column<string>(type: "TEXT", nullable: false),
                    KeyId = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    PublicKey = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_oauth2_trusted_jwt_issuers", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_trusted_jwt_issuers_Nid_ExpiresAt",
                table: "oauth2_trusted_jwt_issuers",
                columns: new[] { "Nid", "ExpiresAt" });

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_trusted_jwt_issuers_Nid_Issuer_Subject_KeyId",
                table: "oauth2_trusted_jwt_issuers",
                columns: new[] { "Nid", "Issuer", "Subject", "KeyId" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "oauth2_trusted_jwt_issuers");
        }
    }
}
