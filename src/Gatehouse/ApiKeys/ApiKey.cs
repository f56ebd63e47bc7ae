namespace Gatehouse.ApiKeys;

/// <summary>An admin API key. Only the SHA-256 of the key is stored; the key itself is shown once, at creation.</summary>
public sealed class ApiKey
{
    public Guid Id { get; set; }
    public Guid Nid { get; set; }
    public string Name { get; set; } = "";

    /// <summary>SHA-256 of the whole key string. Keys carry 256 random bits, so a fast hash is enough (no dictionary to guess from).</summary>
    public byte[] KeyHash { get; set; } = [];

    /// <summary>The first characters of the key, to recognise it in <c>keys list</c> without revealing it.</summary>
    public string Prefix { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    public DateTime? RevokedAt { get; set; }
}
