namespace Gatehouse.Schemas;

/// <summary>
/// One reason the traits are invalid.
/// </summary>
/// <param name="InstancePointer">
/// Where in the identity document the problem is, as Kratos reports it: <c>#/traits/email</c>.
/// For <c>required</c> it points at the missing property, so the UI can attach the message to that field.
/// </param>
/// <param name="Message">Human-readable text in the wording of Kratos's JSON Schema validator.</param>
/// <param name="Keyword">The failing JSON Schema keyword (<c>format</c>, <c>required</c>, <c>minLength</c>, ...).</param>
/// <param name="Context">Values a UI message needs, such as <c>min_length</c> and <c>actual_length</c>.</param>
public sealed record TraitsError(
    string InstancePointer,
    string Message,
    string Keyword,
    IReadOnlyDictionary<string, object> Context)
{
    public TraitsError(string instancePointer, string message, string keyword)
        : this(instancePointer, message, keyword, EmptyContext)
    {
    }

    internal static readonly IReadOnlyDictionary<string, object> EmptyContext = new Dictionary<string, object>();
}
