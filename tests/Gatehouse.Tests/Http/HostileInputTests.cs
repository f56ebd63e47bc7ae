using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http.Json;
using Gatehouse.Tests.Config;
using Gatehouse.Tests.Infrastructure;
using static Gatehouse.Tests.Sessions.SessionFixtures;

namespace Gatehouse.Tests.Http;

/// <summary>Each hostile input that was a 500, a hang or a refused config, at the one place that now handles it.</summary>
public sealed class HostileInputTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public void A_json_patch_index_far_beyond_the_array_is_refused_at_once()
    {
        var clock = Stopwatch.StartNew();
        foreach (var path in new[] { "/l/2000000000", "/l/2000000000/x", "/m/l/2000000000/a", "/l/-1", "/l/01" })
        {
            Assert.Throws<JsonPatchException>(() => JsonPatch.Apply(JsonNode.Parse("""{"l":[]}""")!, JsonNode.Parse($$"""[{"op":"add","path":"{{path}}","value":1}]""")));
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        // The next position still appends, creating the parent as before.
        Assert.Equal("""{"l":[{"x":1}]}""", JsonPatch.Apply(JsonNode.Parse("""{"l":[]}""")!, JsonNode.Parse("""[{"op":"add","path":"/l/0/x","value":1}]""")).ToJsonString());
    }

    [Theory]
    [InlineData("80000000h")]
    [InlineData("2562048h")]
    [InlineData("9999999999999999999ns")]
    public void Durations_beyond_gos_int64_nanoseconds_are_refused(string text) => Assert.False(GoDuration.TryParse(text, out _));

    [Fact]
    public void The_largest_go_duration_still_parses() =>
        Assert.True(GoDuration.TryParse("2562047h47m16s", out var value) && value <= GoDuration.Max);

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Admin_recovery_with_an_absurd_expires_in_is_a_400(string db)
    {
        await using var s = await TestServer.StartAsync(db, o => o.Selfservice.Flows.Recovery.Enabled = true);
        var identity = await CreateIdentity(s);
        foreach (var route in new[] { "/admin/recovery/code", "/admin/recovery/link" })
        {
            var error = await (await s.AdminWithKey.PostJson(route, $$"""{"identity_id":"{{identity["id"]}}","expires_in":"80000000h"}""")).Error(HttpStatusCode.BadRequest);
            Assert.Contains("Unable to parse \"expires_in\"", error["reason"]!.GetValue<string>(), StringComparison.Ordinal);
            // Go's largest duration is still accepted.
            Assert.True((await s.AdminWithKey.PostJson(route, $$"""{"identity_id":"{{identity["id"]}}","expires_in":"2562047h"}""")).IsSuccessStatusCode);
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Json_bodies_with_duplicate_keys_lone_surrogates_or_huge_numbers_are_400s(string db)
    {
        var s = await fixture.Get(db);
        foreach (var body in new[]
        {
            """{"schema_id":"default","schema_id":"default","traits":{"email":"dup@example.com"}}""",
            """{"schema_id":"default","traits":{"email":"\ud800@example.com"}}""",
            """{"schema_id":"default","traits":{"\udc00":"x"}}""",
            """{"schema_id":"default","traits":{"email":"big@example.com"},"metadata_public":{"n":1e999}}""",
        })
        {
            var error = await (await s.AdminWithKey.PostJson("/admin/identities", body)).Error(HttpStatusCode.BadRequest);
            Assert.StartsWith("Unable to decode the request body as JSON", error["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Forms_with_too_many_fields_long_keys_or_deep_dotted_keys_are_400s(string db)
    {
        var s = await fixture.Get(db);
        var flow = await (await s.Public.GetAsync("/self-service/registration/api")).Json(HttpStatusCode.OK);
        foreach (var form in new[]
        {
            string.Join("&", Enumerable.Range(0, 5000).Select(i => $"f{i}=v")),
            new string('k', 100_000) + "=v",
            "traits." + string.Join(".", Enumerable.Repeat("a", 5000)) + "=x",
        })
        {
            using var content = new StringContent("method=password&" + form, Encoding.UTF8, "application/x-www-form-urlencoded");
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/self-service/registration?flow={flow["id"]}") { Content = content };
            request.Headers.Add("Accept", "application/json");
            await (await s.Public.SendAsync(request)).Error(HttpStatusCode.BadRequest);
        }
    }

    [Fact]
    public void A_config_with_an_inline_base64_identity_schema_of_real_size_loads()
    {
        var schema = Schemas.TestSchemas.WithTrait("email", "{\"type\":\"string\",\"format\":\"email\",\"description\":\"" + new string('x', 2000) + "\"}");
        var url = "base64://" + Convert.ToBase64String(Encoding.UTF8.GetBytes(schema));
        Assert.True(url.Length > 2000);
        using var files = new ConfigFiles();
        var config = new JsonObject
        {
            ["dsn"] = "memory",
            ["secrets"] = new JsonObject { ["default"] = new JsonArray("a-default-secret-value") },
            ["identity"] = new JsonObject
            {
                ["default_schema_id"] = "default",
                ["schemas"] = new JsonArray(new JsonObject { ["id"] = "default", ["url"] = url }),
            },
        };
        var options = ConfigLoader.Load([files.Write("config.json", config.ToJsonString())], new Dictionary<string, string?>(), dev: false).Options;
        Assert.Equal(url, options.Identity.Schemas[0].Url);
        // The same check still refuses what is not an absolute URL.
        Assert.False(ConfigSchema.IsAbsoluteUrl("/relative/path"));
        Assert.False(ConfigSchema.IsAbsoluteUrl("http://exa mple.com/"));
        Assert.True(ConfigSchema.IsAbsoluteUrl("https://bücher.example/"));
    }

    [Fact]
    public void A_catastrophic_identity_schema_pattern_is_bounded_in_time_and_counts_as_no_match()
    {
        var schema = Schemas.TestSchemas.Create(Schemas.TestSchemas.WithTrait("name", """{"type":"string","pattern":"^(a+)+$"}"""));
        Assert.True(schema.Validate(JsonNode.Parse("""{"name":"aaaa"}""")).IsValid);
        var clock = Stopwatch.StartNew();
        var result = schema.Validate(JsonNode.Parse($$"""{"name":"{{new string('a', 40)}}!"}"""));
        Assert.False(result.IsValid);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }
}
