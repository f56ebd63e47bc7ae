using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Gatehouse.Schemas;

/// <summary>
/// One configured identity schema: its id, the URL it came from, the document as written (served
/// verbatim by <c>GET /schemas/{id}</c>) and a validator for an identity's traits.
/// </summary>
public sealed class IdentitySchema
{
    private static readonly EvaluationOptions Evaluation = new()
    {
        OutputFormat = OutputFormat.List,
        // Kratos asserts formats; JsonSchema.Net only annotates them unless told otherwise.
        RequireFormatValidation = true,
        FormatRegistry = KratosFormats.Registry,
    };

    private readonly JsonSchema _schema;

    private IdentitySchema(string id, string url, string rawJson, JsonNode rawSchema, JsonSchema schema)
    {
        Id = id;
        Url = url;
        RawJson = rawJson;
        RawSchema = rawSchema;
        _schema = schema;
        TraitFields = TraitFieldWalker.Walk(rawSchema);
    }

    public string Id { get; }

    /// <summary>The URL as configured in <c>identity.schemas[].url</c>.</summary>
    public string Url { get; }

    /// <summary>The schema document exactly as loaded.</summary>
    public string RawJson { get; }

    /// <summary>The schema document, parsed. Treat as read-only; clone before changing it.</summary>
    public JsonNode RawSchema { get; }

    /// <summary>The leaf traits in schema order, nested objects flattened to dotted names.</summary>
    public IReadOnlyList<TraitField> TraitFields { get; }

    /// <summary>
    /// Validates traits as Kratos does: the identity document <c>{"traits": ...}</c> against the whole
    /// schema, formats asserted. Null (or JSON null) traits are validated as <c>{}</c>.
    /// </summary>
    public TraitsValidationResult Validate(JsonNode? traits)
    {
        traits ??= new JsonObject();
        if (traits is not JsonObject)
        {
            var kind = traits.GetValueKind() switch
            {
                JsonValueKind.Array => "array",
                JsonValueKind.String => "string",
                JsonValueKind.Number => "number",
                JsonValueKind.True or JsonValueKind.False => "boolean",
                _ => "null",
            };
            return new TraitsValidationResult(
            [
                new TraitsError("#/traits", $"expected object, but got {kind}", "type",
                    new Dictionary<string, object> { ["expected_type"] = "object", ["actual_type"] = kind }),
            ]);
        }

        using var document = JsonDocument.Parse(new JsonObject { ["traits"] = traits.DeepClone() }.ToJsonString());
        var instance = document.RootElement;
        var results = _schema.Evaluate(instance, Evaluation);
        if (!results.IsValid)
        {
            var errors = TraitsErrorMapper.Map(results, instance, RawSchema, _schema.BaseUri);
            return new TraitsValidationResult(errors.Count > 0
                ? errors
                : [new TraitsError("#", "the traits do not match the identity schema", "")]);
        }

        return TraitsExtensionRunner.Run(results, instance);
    }

    /// <summary>Builds and checks a schema document; throws <see cref="SchemaConfigException"/> when unusable.</summary>
    internal static IdentitySchema Create(string id, string url, string rawJson)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(rawJson, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false });
        }
        catch (JsonException e)
        {
            throw SchemaConfigException.For(id, url, $"is not valid JSON: {e.Message}", e);
        }

        var problems = IdentitySchemaShape.Check(root);
        if (problems.Count > 0)
        {
            throw SchemaConfigException.For(id, url, "is not a valid identity schema: " + string.Join("; ", problems));
        }

        var references = IdentitySchemaShape.CheckReferences(root!);
        if (references.Count > 0)
        {
            throw SchemaConfigException.For(id, url, "is not a valid JSON schema: " + string.Join("; ", references));
        }

        JsonSchema schema;
        try
        {
            var options = new BuildOptions
            {
                // Each schema gets its own registry: several may share an $id (the quickstart ones do).
                SchemaRegistry = new SchemaRegistry(),
                Dialect = KratosExtensionKeyword.Dialect,
            };
            schema = JsonSchema.FromText(rawJson, options);

            // $ref targets are resolved lazily; one evaluation surfaces unresolvable ones at start-up.
            using var probe = JsonDocument.Parse("""{"traits":{}}""");
            schema.Evaluate(probe.RootElement, Evaluation);
        }
        catch (Exception e) when (e is JsonSchemaException or RefResolutionException or ArgumentException or JsonException or InvalidOperationException)
        {
            throw SchemaConfigException.For(id, url, $"is not a valid JSON schema: {e.Message}", e);
        }

        return new IdentitySchema(id, url, rawJson, root!, schema);
    }
}
