using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class ChildIndexesNotLedByNid : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_identity_verifiable_addresses_Nid_Via_Value",
                table: "identity_verifiable_addresses");

            migrationBuilder.DropIndex(
                name: "IX_identity_recovery_addresses_Nid_Via_Value",
                table: "identity_recovery_addresses");

            migrationBuilder.DropIndex(
                name: "IX_identity_credentials_IdentityId",
                table: "identity_credentials");

            migrationBuilder.DropIndex(
                name: "IX_identity_credentials_Nid_IdentityId_Type",
                table: "identity_credentials");

            migrationBuilder.DropIndex(
                name: "IX_identity_credential_identifiers_Nid_Identifier_Type",
                table: "identity_credential_identifiers");

            migrationBuilder.CreateIndex(
                name: "IX_identity_verifiable_addresses_Value_Via_Nid",
                table: "identity_verifiable_addresses",
                columns: new[] { "Value", "Via", "Nid" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_identity_recovery_addresses_Value_Via_Nid",
                table: "identity_recovery_addresses",
                columns: new[] { "Value", "Via", "Nid" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_identity_credentials_IdentityId_Nid_Type",
                table: "identity_credentials",
                columns: new[] { "IdentityId", "Nid", "Type" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_identity_credential_identifiers_Identifier_Nid_Type",
                table: "identity_credential_identifiers",
                columns: new[] { "Identifier", "Nid", "Type" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_identity_verifiable_addresses_Value_Via_Nid",
                table: "identity_verifiable_addresses");

            migrationBuilder.DropIndex(
                name: "IX_identity_recovery_addresses_Value_Via_Nid",
                table: "identity_recovery_addresses");

            migrationBuilder.DropIndex(
                name: "IX_identity_credentials_IdentityId_Nid_Type",
                table: "identity_credentials");

            migrationBuilder.DropIndex(
                name: "IX_identity_credential_identifiers_Identifier_Nid_Type",
                table: "identity_credential_identifiers");

            migrationBuilder.CreateIndex(
                name: "IX_identity_verifiable_addresses_Nid_Via_Value",
                table: "identity_verifiable_addresses",
                columns: new[] { "Nid", "Via", "Value" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_identity_recovery_addresses_Nid_Via_Value",
                table: "identity_recovery_addresses",
                columns: new[] { "Nid", "Via", "Value" },
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
                name: "IX_identity_credential_identifiers_Nid_Identifier_Type",
                table: "identity_credential_identifiers",
                columns: new[] { "Nid", "Identifier", "Type" },
                unique: true);
        }
    }
}
