using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class SelfServiceTestLoginFlows : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "TestContext",
                table: "selfservice_flows",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "TestContext",
                table: "selfservice_flows");
        }
    }
}
