namespace Gatehouse.Schemas;

/// <summary>
/// A leaf trait of an identity schema, for building form fields: <c>traits.email</c>,
/// <c>traits.name.first</c>.
/// </summary>
/// <param name="Name">Dotted path, as Kratos names UI nodes: <c>traits.name.first</c>.</param>
/// <param name="Type"><c>string</c>, <c>number</c>, <c>integer</c>, <c>boolean</c> or <c>array</c>.</param>
/// <param name="Format">The JSON Schema <c>format</c>, such as <c>email</c> or <c>tel</c>.</param>
/// <param name="Title">The schema's <c>title</c>, used as the field label.</param>
/// <param name="Required">Whether the property is listed in its parent object's <c>required</c>.</param>
/// <param name="Extension">The <c>ory.sh/kratos</c> settings on the property.</param>
public sealed record TraitField(
    string Name,
    string Type,
    string? Format,
    string? Title,
    bool Required,
    TraitExtension Extension)
{
    public int? MinLength { get; init; }

    public int? MaxLength { get; init; }

    public string? Pattern { get; init; }
}
