using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class OAuth2RefreshGrace : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "AccessTokenPk",
                table: "oauth2_tokens",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "FirstUsedAt",
                table: "oauth2_tokens",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "UsedTimes",
                table: "oauth2_tokens",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "AccessTokenPk",
                table: "oauth2_tokens");

            migrationBuilder.DropColumn(
                name: "FirstUsedAt",
                table: "oauth2_tokens");

            migrationBuilder.DropColumn(
                name: "UsedTimes",
                table: "oauth2_tokens");
        }
    }
}
