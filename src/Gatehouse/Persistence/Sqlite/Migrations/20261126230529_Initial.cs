using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "api_keys",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Nid = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    KeyHash = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Prefix = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    RevokedAt = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_api_keys", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "identities",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Nid = table.Column<Guid>(type: "TEXT", nullable: false),
                    SchemaId = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: false),
                    State = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    StateChangedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    Traits = table.Column<string>(type: "TEXT", nullable: false),
                    MetadataPublic = table.Column<string>(type: "TEXT", nullable: true),
                    MetadataAdmin = table.Column<string>(type: "TEXT", nullable: true),
                    ExternalId = table.Column<string>(type: "TEXT", maxLength: 512, nullable: true),
                    OrganizationId = table.Column<Guid>(type: "TEXT", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Revision = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_identities", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "identity_credentials",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Nid = table.Column<Guid>(type: "TEXT", nullable: false),
                    IdentityId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Type = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Config = table.Column<string>(type: "TEXT", nullable: false),
                    Version = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_identity_credentials", x => x.Id);
                    table.ForeignKey(
                        name: "FK_identity_credentials_identities_IdentityId",
                        column: x => x.IdentityId,
                        principalTable: "identities",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "identity_recovery_addresses",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Nid = table.Column<Guid>(type: "TEXT", nullable: false),
                    IdentityId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Value = table.Column<string>(type: "TEXT", maxLength: 400, nullable: false),
                    Via = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_identity_recovery_addresses", x => x.Id);
                    table.ForeignKey(
                        name: "FK_identity_recovery_addresses_identities_IdentityId",
                        column: x => x.IdentityId,
                        principalTable: "identities",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "identity_verifiable_addresses",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Nid = table.Column<Guid>(type: "TEXT", nullable: false),
                    IdentityId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Value = table.Column<string>(type: "TEXT", maxLength: 400, nullable: false),
                    Via = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Verified = table.Column<bool>(type: "INTEGER", nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    VerifiedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_identity_verifiable_addresses", x => x.Id);
                    table.ForeignKey(
                        name: "FK_identity_verifiable_addresses_identities_IdentityId",
                        column: x => x.IdentityId,
                        principalTable: "identities",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "identity_credential_identifiers",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Nid = table.Column<Guid>(type: "TEXT", nullable: false),
                    IdentityId = table.Column<Guid>(type: "TEXT", nullable: false),
                    CredentialId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Type = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Identifier = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_identity_credential_identifiers", x => x.Id);
                    table.ForeignKey(
                        name: "FK_identity_credential_identifiers_identity_credentials_CredentialId",
                        column: x => x.CredentialId,
                        principalTable: "identity_credentials",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_api_keys_KeyHash",
                table: "api_keys",
                column: "KeyHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_identities_Nid_ExternalId",
                table: "identities",
                columns: new[] { "Nid", "ExternalId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_identities_Nid_Id",
                table: "identities",
                columns: new[] { "Nid", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_identity_credential_identifiers_CredentialId",
                table: "identity_credential_identifiers",
                column: "CredentialId");

            migrationBuilder.CreateIndex(
                name: "IX_identity_credential_identifiers_IdentityId",
                table: "identity_credential_identifiers",
                column: "IdentityId");

            migrationBuilder.CreateIndex(
                name: "IX_identity_credential_identifiers_Nid_Identifier_Type",
                table: "identity_credential_identifiers",
                columns: new[] { "Nid", "Identifier", "Type" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_identity_credentials_IdentityId",
                table: "identity_credentials",
                column: "IdentityId");

            migrationBuilder.CreateIndex(
                name: "IX_identity_credentials_Nid_IdentityId_Type",
                table: "identity_credentials",
                columns: new[] { "Nid", "IdentityId", "Type" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_identity_recovery_addresses_IdentityId",
                table: "identity_recovery_addresses",
                column: "IdentityId");

            migrationBuilder.CreateIndex(
                name: "IX_identity_recovery_addresses_Nid_Via_Value",
                table: "identity_recovery_addresses",
                columns: new[] { "Nid", "Via", "Value" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_identity_verifiable_addresses_IdentityId",
                table: "identity_verifiable_addresses",
                column: "IdentityId");

            migrationBuilder.CreateIndex(
                name: "IX_identity_verifiable_addresses_Nid_Via_Value",
                table: "identity_verifiable_addresses",
                columns: new[] { "Nid", "Via", "Value" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "api_keys");

            migrationBuilder.DropTable(
                name: "identity_credential_identifiers");

            migrationBuilder.DropTable(
                name: "identity_recovery_addresses");

            migrationBuilder.DropTable(
                name: "identity_verifiable_addresses");

            migrationBuilder.DropTable(
                name: "identity_credentials");

            migrationBuilder.DropTable(
                name: "identities");
        }
    }
}
