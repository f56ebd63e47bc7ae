namespace Gatehouse.Hashing;

/// <summary>
/// The outcome of checking a password hash an administrator wants to import.
/// <see cref="Error"/> is the message the admin API answers 400 with.
/// </summary>
public sealed record HashImportCheck
{
    public const string UnknownFormatMessage = "The imported password does not match any known hash format.";

    public const string BoundsExceededMessage =
        "The imported password hash declares cost parameters that exceed the bounds enforced by Gatehouse";

    private HashImportCheck(string? error) => Error = error;

    public static HashImportCheck Accepted { get; } = new((string?)null);

    public static HashImportCheck UnknownFormat { get; } = new(UnknownFormatMessage);

    public string? Error { get; }

    public bool IsValid => Error is null;

    internal static HashImportCheck BoundsExceeded(string detail) => new($"{BoundsExceededMessage}: {detail}.");
}
