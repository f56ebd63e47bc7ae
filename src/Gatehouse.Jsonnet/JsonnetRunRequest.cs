namespace Gatehouse.Jsonnet;

/// <summary>Command-line inputs of <see cref="JsonnetFileRunner"/>; each entry is <c>NAME=VALUE</c> or <c>NAME</c> (read from the environment).</summary>
public sealed class JsonnetRunRequest
{
    public IReadOnlyList<string> ExtStr { get; init; } = [];

    public IReadOnlyList<string> ExtCode { get; init; } = [];

    public IReadOnlyList<string> TlaStr { get; init; } = [];

    public IReadOnlyList<string> TlaCode { get; init; } = [];

    /// <summary>Library folders in command-line order; the right-most wins.</summary>
    public IReadOnlyList<string> LibraryPaths { get; init; } = [];

    public int MaxStackFrames { get; init; } = 500;
}
