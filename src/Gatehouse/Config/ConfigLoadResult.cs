namespace Gatehouse.Config;

/// <summary>What <see cref="ConfigLoader.Load"/> produced.</summary>
public sealed class ConfigLoadResult
{
    /// <summary>The merged, validated and bound options, with derived defaults filled in.</summary>
    public required GatehouseOptions Options { get; init; }

    /// <summary>Things worth telling the operator that do not stop start-up (ignored keys, generated secrets, ...).</summary>
    public required IReadOnlyList<string> Warnings { get; init; }

    /// <summary>The folder of the first config file, against which relative <c>file://</c> URLs resolve; null without files.</summary>
    public string? BaseDirectory { get; init; }
}
