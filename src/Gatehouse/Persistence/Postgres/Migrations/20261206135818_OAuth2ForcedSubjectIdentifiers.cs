using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class OAuth2ForcedSubjectIdentifiers : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "oauth2_forced_subject_identifiers",
                columns: table => new
                {
                    Nid = table.Column<Guid>(type: "uuid", nullable: false),
                    ClientId = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    Subject = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    SubjectObfuscated = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_oauth2_forced_subject_identifiers", x => new { x.Nid, x.ClientId, x.Subject });
                });

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_forced_subject_identifiers_Nid_ClientId_SubjectObfus~",
                table: "oauth2_forced_subject_identifiers",
                columns: new[] { "Nid", "ClientId", "SubjectObfuscated" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "oauth2_forced_subject_identifiers");
        }
    }
}
