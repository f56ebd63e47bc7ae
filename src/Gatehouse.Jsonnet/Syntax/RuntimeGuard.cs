using System.Runtime.CompilerServices;

namespace Gatehouse.Jsonnet.Syntax;

/// <summary>Protects the process stack from deeply nested programs.</summary>
internal static class RuntimeGuard
{
    public static void EnsureStack()
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw new JsonnetException(JsonnetErrorKind.Runtime, "max stack frames exceeded.", null, []);
        }
    }
}
