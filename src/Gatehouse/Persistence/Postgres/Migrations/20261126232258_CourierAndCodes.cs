using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Gatehouse.Persistence.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class CourierAndCodes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "courier_messages",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Nid = table.Column<Guid>(type: "uuid", nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Type = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Channel = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Recipient = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: false),
                    Subject = table.Column<string>(type: "text", nullable: false),
                    Body = table.Column<string>(type: "text", nullable: false),
                    HtmlBody = table.Column<string>(type: "text", nullable: true),
                    TemplateType = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    TemplateData = table.Column<string>(type: "text", nullable: true),
                    SendCount = table.Column<int>(type: "integer", nullable: false),
                    NextAttemptAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    ClaimedUntil = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    ClaimedBy = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_courier_messages", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "selfservice_codes",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Nid = table.Column<Guid>(type: "uuid", nullable: false),
                    FlowId = table.Column<Guid>(type: "uuid", nullable: false),
                    IdentityId = table.Column<Guid>(type: "uuid", nullable: true),
                    Kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Address = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: false),
                    Via = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    SecretHash = table.Column<byte[]>(type: "bytea", nullable: false),
                    Attempts = table.Column<int>(type: "integer", nullable: false),
                    ExpiresAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UsedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_selfservice_codes", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "courier_message_dispatches",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Nid = table.Column<Guid>(type: "uuid", nullable: false),
                    MessageId = table.Column<Guid>(type: "uuid", nullable: false),
                    Status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Error = table.Column<string>(type: "text", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_courier_message_dispatches", x => x.Id);
                    table.ForeignKey(
                        name: "FK_courier_message_dispatches_courier_messages_MessageId",
                        column: x => x.MessageId,
                        principalTable: "courier_messages",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_courier_message_dispatches_MessageId",
                table: "courier_message_dispatches",
                column: "MessageId");

            migrationBuilder.CreateIndex(
                name: "IX_courier_messages_Nid_CreatedAt_Id",
                table: "courier_messages",
                columns: new[] { "Nid", "CreatedAt", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_courier_messages_Nid_Recipient",
                table: "courier_messages",
                columns: new[] { "Nid", "Recipient" });

            migrationBuilder.CreateIndex(
                name: "IX_courier_messages_Nid_Status_NextAttemptAt",
                table: "courier_messages",
                columns: new[] { "Nid", "Status", "NextAttemptAt" });

            migrationBuilder.CreateIndex(
                name: "IX_selfservice_codes_Nid_FlowId",
                table: "selfservice_codes",
                columns: new[] { "Nid", "FlowId" });

            migrationBuilder.CreateIndex(
                name: "IX_selfservice_codes_SecretHash",
                table: "selfservice_codes",
                column: "SecretHash");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "courier_message_dispatches");

            migrationBuilder.DropTable(
                name: "selfservice_codes");

            migrationBuilder.DropTable(
                name: "courier_messages");
        }
    }
}
