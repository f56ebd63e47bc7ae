namespace Gatehouse.Jsonnet;

/// <summary>How the text of an <see cref="ExternalValue"/> is interpreted.</summary>
public enum ExternalValueKind
{
    /// <summary>A plain string.</summary>
    String,
    /// <summary>Jsonnet code, evaluated on first use.</summary>
    Code,
    /// <summary>A JSON document: like code, but read with a JSON parser (faster, and never cached as a program).</summary>
    Json,
}

/// <summary>An external variable or top-level argument.</summary>
public sealed record ExternalValue(string Text, ExternalValueKind Kind)
{
    /// <summary>True when the text is evaluated (code or JSON) rather than used as a string.</summary>
    public bool IsCode => Kind != ExternalValueKind.String;

    /// <summary>A string value (<c>--ext-str</c>, <c>--tla-str</c>).</summary>
    public static ExternalValue String(string value) => new(value, ExternalValueKind.String);

    /// <summary>Jsonnet code (<c>--ext-code</c>, <c>--tla-code</c>).</summary>
    public static ExternalValue Code(string code) => new(code, ExternalValueKind.Code);

    /// <summary>A JSON document, such as the context a server passes to a web-hook template.</summary>
    public static ExternalValue Json(string json) => new(json, ExternalValueKind.Json);
}
