using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class FlowSecretsAnswerOnly : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ContinueWith",
                table: "selfservice_flows");

            migrationBuilder.DropColumn(
                name: "TransientPayload",
                table: "selfservice_flows");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ContinueWith",
                table: "selfservice_flows",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "TransientPayload",
                table: "selfservice_flows",
                type: "text",
                nullable: true);
        }
    }
}
