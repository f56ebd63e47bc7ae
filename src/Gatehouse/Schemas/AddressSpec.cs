namespace Gatehouse.Schemas;

/// <summary>An address derived from the traits: its normalised value and the channel (<c>email</c> or <c>sms</c>).</summary>
public sealed record AddressSpec(string Value, string Via);
