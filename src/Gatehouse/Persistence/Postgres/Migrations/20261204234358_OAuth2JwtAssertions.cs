using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class OAuth2JwtAssertions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "oauth2_jwt_assertions",
                columns: table => new
                {
                    Pk = table.Column<Guid>(type: "uuid", nullable: false),
                    Nid = table.Column<Guid>(type: "uuid", nullable: false),
                    Signature = table.Column<byte[]>(type: "bytea", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_oauth2_jwt_assertions", x => x.Pk);
                });

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_jwt_assertions_Nid_ExpiresAt",
                table: "oauth2_jwt_assertions",
                columns: new[] { "Nid", "ExpiresAt" });

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_jwt_assertions_Nid_Signature",
                table: "oauth2_jwt_assertions",
                columns: new[] { "Nid", "Signature" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "oauth2_jwt_assertions");
        }
    }
}
