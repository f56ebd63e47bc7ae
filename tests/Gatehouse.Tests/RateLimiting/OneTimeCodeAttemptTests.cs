using Gatehouse.Http.Errors;
using Gatehouse.SelfService.Flows;
using Gatehouse.Tests.Infrastructure;

namespace Gatehouse.Tests.RateLimiting;

/// <summary>
/// Recovery/verification code guesses: the counter moves before the comparison, so concurrent wrong guesses are never
/// compared more than <c>max_submissions</c> times, and the recipient's budget survives a resend.
/// </summary>
public sealed class OneTimeCodeAttemptTests
{
    private const string Kind = "recovery_code";

    private static async Task<SelfServiceCode> NewCode(TestServer s, Guid flowId, string address, string secret)
    {
        await using var scope = s.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<OneTimeCodes>().CreateAsync(flowId, null, Kind, address, "email", secret, TimeSpan.FromMinutes(15), CancellationToken.None);
    }

    private static async Task<OneTimeCodes.Outcome> Guess(TestServer s, Guid flowId, string code, int max = 5)
    {
        await using var scope = s.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<OneTimeCodes>().UseCodeAsync(flowId, Kind, code, max, CancellationToken.None)).Outcome;
    }

    private static string Wrong(string right) => right == "000000" ? "111111" : "000000";

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task Many_concurrent_wrong_guesses_are_compared_at_most_max_submissions_times_and_the_right_code_then_fails(string db)
    {
        await using var s = await TestServer.StartAsync(db);
        var flowId = Guid.CreateVersion7();
        var secret = OneTimeCodes.NewCode();
        await NewCode(s, flowId, HttpAssertions.UniqueEmail("race"), secret);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => Task.Run(() => Guess(s, flowId, Wrong(secret)))));
        Assert.Equal(5, outcomes.Count(o => o == OneTimeCodes.Outcome.Invalid)); // compared
        Assert.Equal(35, outcomes.Count(o => o == OneTimeCodes.Outcome.Exhausted)); // refused without a comparison
        Assert.Equal(OneTimeCodes.Outcome.Exhausted, await Guess(s, flowId, secret));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_resent_code_does_not_buy_new_guesses_beyond_the_recipients_budget(string db)
    {
        await using var s = await TestServer.StartAsync(db, o => o.Gatehouse.RateLimits.CodeAttemptsPerRecipient.Limit = 7);
        var address = HttpAssertions.UniqueEmail("resend");
        var flowId = Guid.CreateVersion7();
        var first = OneTimeCodes.NewCode();
        await NewCode(s, flowId, address, first);
        for (var i = 0; i < 5; i++) Assert.Equal(OneTimeCodes.Outcome.Invalid, await Guess(s, flowId, Wrong(first)));
        Assert.Equal(OneTimeCodes.Outcome.Exhausted, await Guess(s, flowId, first));

        // "Resend": a fresh code on the same flow; two more guesses are left for this address, not five.
        var second = OneTimeCodes.NewCode();
        await NewCode(s, flowId, address, second);
        Assert.Equal(OneTimeCodes.Outcome.Invalid, await Guess(s, flowId, Wrong(second)));
        Assert.Equal(OneTimeCodes.Outcome.Invalid, await Guess(s, flowId, Wrong(second)));
        var refused = await Assert.ThrowsAsync<GatehouseError>(() => Guess(s, flowId, second));
        Assert.Equal(429, refused.Code);
        Assert.Equal(4290003, refused.Details!["message"]!["id"]!.GetValue<long>());
        Assert.NotNull(refused.RetryAfter);

        // Concurrent guesses at codes on other flows for the same address are refused as well.
        var otherFlow = Guid.CreateVersion7();
        var third = OneTimeCodes.NewCode();
        await NewCode(s, otherFlow, address, third);
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(async () =>
        {
            try { return await Guess(s, otherFlow, third); }
            catch (GatehouseError e) when (e.Code == 429) { return (OneTimeCodes.Outcome?)null; }
        })));
        Assert.All(results, r => Assert.NotEqual(OneTimeCodes.Outcome.Valid, r));
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_right_code_within_the_budget_is_valid_once(string db)
    {
        await using var s = await TestServer.StartAsync(db);
        var flowId = Guid.CreateVersion7();
        var secret = OneTimeCodes.NewCode();
        await NewCode(s, flowId, HttpAssertions.UniqueEmail("ok"), secret);
        for (var i = 0; i < 4; i++) Assert.Equal(OneTimeCodes.Outcome.Invalid, await Guess(s, flowId, Wrong(secret)));
        Assert.Equal(OneTimeCodes.Outcome.Valid, await Guess(s, flowId, secret));
        Assert.Equal(OneTimeCodes.Outcome.Invalid, await Guess(s, flowId, secret)); // single use
    }

    [Theory, MemberData(nameof(Db.Providers), MemberType = typeof(Db))]
    public async Task A_right_code_resets_the_recipients_budget_with_its_claim_and_concurrent_right_guesses_use_it_once(string db)
    {
        await using var s = await TestServer.StartAsync(db, o => o.Gatehouse.RateLimits.CodeAttemptsPerRecipient.Limit = 7);
        var address = HttpAssertions.UniqueEmail("reset");
        var flowId = Guid.CreateVersion7();
        var secret = OneTimeCodes.NewCode();
        await NewCode(s, flowId, address, secret);
        for (var i = 0; i < 4; i++) Assert.Equal(OneTimeCodes.Outcome.Invalid, await Guess(s, flowId, Wrong(secret)));
        Assert.Equal(OneTimeCodes.Outcome.Valid, await Guess(s, flowId, secret));

        // The claim reset the address's 5 counted guesses: a new code gets 5 more (without the reset the 8th would be a 429).
        var next = Guid.CreateVersion7();
        var again = OneTimeCodes.NewCode();
        await NewCode(s, next, address, again);
        for (var i = 0; i < 4; i++) Assert.Equal(OneTimeCodes.Outcome.Invalid, await Guess(s, next, Wrong(again)));
        Assert.Equal(OneTimeCodes.Outcome.Valid, await Guess(s, next, again));

        // Concurrent right guesses: the code is used once.
        var raced = Guid.CreateVersion7();
        var third = OneTimeCodes.NewCode();
        await NewCode(s, raced, HttpAssertions.UniqueEmail("reset-race"), third);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Guess(s, raced, third))));
        Assert.Equal(1, outcomes.Count(o => o == OneTimeCodes.Outcome.Valid));
    }
}
