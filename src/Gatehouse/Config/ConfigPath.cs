using System.Text;

namespace Gatehouse.Config;

/// <summary>
/// A location in the configuration tree as a list of segments (object keys and array indices),
/// shown the way people write it: <c>identity.schemas[0].url</c>.
/// </summary>
internal sealed class ConfigPath : IEquatable<ConfigPath>
{
    public static readonly ConfigPath Root = new([]);

    private readonly object[] _segments;

    private ConfigPath(object[] segments) => _segments = segments;

    public IReadOnlyList<object> Segments => _segments;

    public bool IsRoot => _segments.Length == 0;

    public ConfigPath Append(string key) => new([.. _segments, key]);

    public ConfigPath Append(int index) => new([.. _segments, index]);

    public ConfigPath? Parent => IsRoot ? null : new(_segments[..^1]);

    public static ConfigPath From(IEnumerable<object> segments) => new([.. segments]);

    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var segment in _segments)
        {
            if (segment is int index) sb.Append('[').Append(index).Append(']');
            else
            {
                if (sb.Length > 0) sb.Append('.');
                sb.Append((string)segment);
            }
        }
        return sb.ToString();
    }

    public bool Equals(ConfigPath? other) => other is not null && ToString() == other.ToString();

    public override bool Equals(object? obj) => Equals(obj as ConfigPath);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ToString());
}
