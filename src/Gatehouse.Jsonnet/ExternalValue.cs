namespace Gatehouse.Jsonnet;

/// <summary>An external variable or top-level argument: a plain string, or Jsonnet code evaluated on use.</summary>
public sealed record ExternalValue(string Text, bool IsCode)
{
    /// <summary>A string value (<c>--ext-str</c>, <c>--tla-str</c>).</summary>
    public static ExternalValue String(string value) => new(value, false);

    /// <summary>Jsonnet code (<c>--ext-code</c>, <c>--tla-code</c>).</summary>
    public static ExternalValue Code(string code) => new(code, true);
}
