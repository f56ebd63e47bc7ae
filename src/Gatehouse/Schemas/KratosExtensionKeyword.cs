using System.Text.Json;
using Json.Schema;
using Json.Schema.Keywords;

namespace Gatehouse.Schemas;

/// <summary>
/// The <c>ory.sh/kratos</c> keyword: it never fails, it annotates each instance it is evaluated against
/// with its settings. Because annotations follow <c>$ref</c>, <c>allOf</c> and <c>items</c>, the
/// extension applies wherever Kratos's extension runners would see the value.
/// </summary>
internal sealed class KratosExtensionKeyword : IKeywordHandler
{
    public static readonly KratosExtensionKeyword Instance = new();

    /// <summary>Draft-07 (Kratos's dialect) plus this keyword, with <c>pattern</c> bounded in time (<see cref="BoundedPatternKeyword"/>).</summary>
    public static readonly Dialect Dialect = Dialect.Draft07.Without([PatternKeyword.Instance]).With([Instance, BoundedPatternKeyword.Instance]);

    private KratosExtensionKeyword()
    {
    }

    public string Name => TraitExtension.Keyword;

    public object? ValidateKeywordValue(JsonElement value) => null;

    public void BuildSubschemas(KeywordData keyword, BuildContext context)
    {
    }

    public KeywordEvaluation Evaluate(KeywordData keyword, EvaluationContext context) =>
        new() { Keyword = Name, IsValid = true, Annotation = keyword.RawValue };
}
