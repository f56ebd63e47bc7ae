namespace Gatehouse.Persistence;

/// <summary>
/// The tenant key (<c>nid</c>, as Kratos calls its network id). Every row carries it and the context's
/// query filters restrict every query to it. There is one default tenant for now.
/// </summary>
public static class Tenancy
{
    public static readonly Guid DefaultNid = new("2b1f0c5e-6a0d-4c1e-9d8e-1a7e5f0a9c01");
}
