using System.Text.Json;
using System.Text.RegularExpressions;
using Json.Schema;
using Json.Schema.Keywords;

namespace Gatehouse.Schemas;

/// <summary>
/// <c>pattern</c> with a bounded match time. JSON Schema patterns are ECMA-262 regular expressions, so they keep
/// <see cref="RegexOptions.ECMAScript"/> (the stock keyword's semantics); .NET's non-backtracking engine cannot run in
/// that mode, so a catastrophic pattern (<c>^(a+)+$</c>) is instead stopped after <see cref="MatchTimeout"/> and the value
/// counts as not matching: a 400 for the one request, rather than a core pinned by a crafted trait value. Go's RE2,
/// which Kratos uses, is linear-time and has no such case.
/// </summary>
internal sealed class BoundedPatternKeyword : PatternKeyword
{
    /// <summary>Far above any sane pattern on a trait-sized value (microseconds), far below a noticeable stall.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

    public static new readonly BoundedPatternKeyword Instance = new();

    private BoundedPatternKeyword()
    {
    }

    public override object? ValidateKeywordValue(JsonElement value)
    {
        if (value.ValueKind is not JsonValueKind.String) return base.ValidateKeywordValue(value);
        return new Regex(value.GetString()!, RegexOptions.ECMAScript | RegexOptions.Compiled, MatchTimeout);
    }

    public override KeywordEvaluation Evaluate(KeywordData keyword, EvaluationContext context)
    {
        try
        {
            return base.Evaluate(keyword, context);
        }
        catch (RegexMatchTimeoutException)
        {
            return new KeywordEvaluation
            {
                Keyword = Name,
                IsValid = false,
                Error = ErrorMessages.GetPattern(context.Options.Culture).Replace("[[pattern]]", ((Regex)keyword.Value!).ToString(), StringComparison.Ordinal),
            };
        }
    }
}
