using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class OAuth2ClientsAndTokens : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "oauth2_clients",
                columns: table => new
                {
                    Pk = table.Column<Guid>(type: "TEXT", nullable: false),
                    Nid = table.Column<Guid>(type: "TEXT", nullable: false),
                    ClientId = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    ClientName = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: false),
                    Owner = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: false),
                    SecretHash = table.Column<string>(type: "TEXT", nullable: false),
                    RotatedSecretHashes = table.Column<string>(type: "TEXT", nullable: false),
                    Document = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_oauth2_clients", x => x.Pk);
                });

            migrationBuilder.CreateTable(
                name: "oauth2_tokens",
                columns: table => new
                {
                    Pk = table.Column<Guid>(type: "TEXT", nullable: false),
                    Nid = table.Column<Guid>(type: "TEXT", nullable: false),
                    Signature = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    RequestId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ClientId = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Subject = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Scope = table.Column<string>(type: "TEXT", nullable: false),
                    Audience = table.Column<string>(type: "TEXT", nullable: false),
                    Extra = table.Column<string>(type: "TEXT", nullable: false),
                    IssuedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Active = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_oauth2_tokens", x => x.Pk);
                });

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_clients_Nid_ClientId",
                table: "oauth2_clients",
                columns: new[] { "Nid", "ClientId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_tokens_Nid_ClientId",
                table: "oauth2_tokens",
                columns: new[] { "Nid", "ClientId" });

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_tokens_RequestId",
                table: "oauth2_tokens",
                column: "RequestId");

            migrationBuilder.CreateIndex(
                name: "IX_oauth2_tokens_Signature",
                table: "oauth2_tokens",
                column: "Signature",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "oauth2_clients");

            migrationBuilder.DropTable(
                name: "oauth2_tokens");
        }
    }
}
