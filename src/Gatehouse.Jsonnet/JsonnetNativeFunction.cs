using System.Text.Json.Nodes;

namespace Gatehouse.Jsonnet;

/// <summary>A host function reachable from Jsonnet as <c>std.native(name)</c>; arguments and result are JSON.</summary>
public sealed record JsonnetNativeFunction(IReadOnlyList<string> Parameters, Func<IReadOnlyList<JsonNode?>, JsonNode?> Invoke);
