namespace Gatehouse.Jsonnet.Tests;

/// <summary>Shorthands for the tests: evaluate to minified JSON, or capture the error.</summary>
internal static class Eval
{
    public static readonly JsonnetEngine Engine = new();

    public static string Min(string code, JsonnetEvaluationOptions? options = null) => Engine.EvaluateMinified(code, "test.jsonnet", options, TestContext.Current.CancellationToken);

    public static string Pretty(string code, JsonnetEvaluationOptions? options = null) => Engine.Evaluate(code, "test.jsonnet", options, TestContext.Current.CancellationToken);

    public static JsonnetException Error(string code, JsonnetEvaluationOptions? options = null) =>
        Assert.Throws<JsonnetException>(() => Engine.Evaluate(code, "test.jsonnet", options, TestContext.Current.CancellationToken));
}
