using System.Text.Json.Nodes;

namespace Gatehouse.Jsonnet.Tests;

public sealed class ApiTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gatehouse-jsonnet-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string relative, string text)
    {
        var path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void External_variables_can_be_strings_or_code()
    {
        var options = new JsonnetEvaluationOptions
        {
            ExtVars = new Dictionary<string, ExternalValue>
            {
                ["s"] = ExternalValue.String("{not code}"),
                ["c"] = ExternalValue.Code("{a: 1 + 1}"),
            },
        };
        Assert.Equal("[\"{not code}\",{\"a\":2}]", Eval.Min("[std.extVar('s'), std.extVar('c')]", options));
    }

    [Fact]
    public void Top_level_arguments_are_passed_to_a_top_level_function()
    {
        var options = new JsonnetEvaluationOptions
        {
            TopLevelArgs = new Dictionary<string, ExternalValue>
            {
                ["name"] = ExternalValue.String("x"),
                ["n"] = ExternalValue.Code("2 * 21"),
            },
        };
        Assert.Equal("{\"n\":42,\"name\":\"x\",\"z\":true}", Eval.Min("function(name, n, z=true) {name: name, n: n, z: z}", options));
    }

    [Fact]
    public void A_missing_top_level_argument_is_an_error() =>
        Assert.Equal("function parameter name not bound in call.", Eval.Error("function(name) name").Message);

    [Fact]
    public void Evaluate_to_node_returns_a_json_node()
    {
        var node = Eval.Engine.EvaluateToNode("{a: [1, 'b', null], c: 0.5}", cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("b", node!["a"]![1]!.GetValue<string>());
        Assert.Equal(0.5, node["c"]!.GetValue<double>());
        Assert.Null(Eval.Engine.EvaluateToNode("null", cancellationToken: TestContext.Current.CancellationToken));
    }

    [Fact]
    public void The_host_controls_imports_with_an_in_memory_resolver()
    {
        var options = new JsonnetEvaluationOptions
        {
            ImportResolver = new InMemoryImportResolver(new Dictionary<string, string>
            {
                ["lib.libsonnet"] = "{ greet(n):: 'hi ' + n }",
                ["data.txt"] = "raw text",
            }),
        };
        Assert.Equal("[\"hi x\",\"raw text\",[114,97]]", Eval.Min("[(import 'lib.libsonnet').greet('x'), importstr 'data.txt', (importbin 'data.txt')[0:2]]", options));
    }

    [Fact]
    public void File_imports_resolve_relative_to_the_importing_file_then_library_paths_right_most_first()
    {
        Write("a/lib1/x.libsonnet", "'lib1'");
        Write("a/lib2/x.libsonnet", "'lib2'");
        Write("a/main/rel.libsonnet", "import 'nested/inner.libsonnet'");
        Write("a/main/nested/inner.libsonnet", "std.thisFile");
        var main = Write("a/main/main.jsonnet", "[import 'x.libsonnet', import 'rel.libsonnet']");
        var options = new JsonnetEvaluationOptions
        {
            ImportResolver = new FileSystemImportResolver([Path.Combine(_dir, "a/lib1"), Path.Combine(_dir, "a/lib2")]),
        };
        var result = JsonNode.Parse(Eval.Engine.EvaluateMinified(File.ReadAllText(main), main, options, TestContext.Current.CancellationToken))!.AsArray();
        Assert.Equal("lib2", result[0]!.GetValue<string>());
        Assert.Equal(Path.Combine(_dir, "a/main/nested/inner.libsonnet"), result[1]!.GetValue<string>());
    }

    [Fact]
    public void File_imports_outside_the_allowed_roots_are_refused()
    {
        var secret = Write("secret/s.libsonnet", "'secret'");
        var main = Write("templates/main.jsonnet", "import '../secret/s.libsonnet'");
        var options = new JsonnetEvaluationOptions
        {
            ImportResolver = new FileSystemImportResolver(allowedRoots: [Path.Combine(_dir, "templates")]),
        };
        Assert.True(File.Exists(secret));
        var e = Assert.Throws<JsonnetException>(() => Eval.Engine.Evaluate(File.ReadAllText(main), main, options, TestContext.Current.CancellationToken));
        Assert.StartsWith("couldn't open import", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Symbolic_links_cannot_lead_imports_outside_the_allowed_roots()
    {
        Write("secret/s.libsonnet", "'secret'");
        Write("templates/ok.libsonnet", "'ok'");
        Directory.CreateSymbolicLink(Path.Combine(_dir, "templates/escape"), Path.Combine(_dir, "secret"));
        File.CreateSymbolicLink(Path.Combine(_dir, "templates/s.libsonnet"), Path.Combine(_dir, "secret/s.libsonnet"));
        var main = Write("templates/main.jsonnet", "[import 'ok.libsonnet']");
        var options = new JsonnetEvaluationOptions
        {
            ImportResolver = new FileSystemImportResolver(allowedRoots: [Path.Combine(_dir, "templates")]),
        };
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal("[\"ok\"]", Eval.Engine.EvaluateMinified(File.ReadAllText(main), main, options, ct));
        Assert.Throws<JsonnetException>(() => Eval.Engine.Evaluate("import 'escape/s.libsonnet'", main, options, ct));
        Assert.Throws<JsonnetException>(() => Eval.Engine.Evaluate("import 's.libsonnet'", main, options, ct));
    }

    [Fact]
    public void Native_functions_are_reachable_through_std_native()
    {
        var options = new JsonnetEvaluationOptions
        {
            NativeFunctions = new Dictionary<string, JsonnetNativeFunction>
            {
                ["upper"] = new(["s"], args => JsonValue.Create(args[0]!.GetValue<string>().ToUpperInvariant())),
            },
        };
        Assert.Equal("\"ABC\"", Eval.Min("std.native('upper')('abc')", options));
        Assert.Equal("null", Eval.Min("std.native('missing')"));
    }

    [Fact]
    public void Trace_lines_go_to_the_host()
    {
        var lines = new List<string>();
        Assert.Equal("1", Eval.Min("std.trace('msg', 1)", new JsonnetEvaluationOptions { Trace = lines.Add }));
        Assert.Equal(["TRACE: test.jsonnet:1 msg"], lines);
    }

    [Fact]
    public void Parsed_programs_are_cached_and_evaluations_are_independent()
    {
        var engine = new JsonnetEngine();
        const string code = "{v: std.extVar('v')}";
        for (var i = 0; i < 3; i++)
        {
            var options = new JsonnetEvaluationOptions { ExtVars = new Dictionary<string, ExternalValue> { ["v"] = ExternalValue.String(i.ToString(System.Globalization.CultureInfo.InvariantCulture)) } };
            Assert.Equal($"{{\"v\":\"{i}\"}}", engine.EvaluateMinified(code, options: options, cancellationToken: TestContext.Current.CancellationToken));
        }
    }

    [Fact]
    public void A_compiled_program_evaluates_many_times_with_different_arguments()
    {
        var program = new JsonnetEngine().Compile("function(ctx) { id: ctx.id, n: std.length(ctx.items) }", "hook.jsonnet");
        Assert.Equal("hook.jsonnet", program.FileName);
        var ct = TestContext.Current.CancellationToken;
        for (var i = 0; i < 3; i++)
        {
            var options = new JsonnetEvaluationOptions { TopLevelArgs = new Dictionary<string, ExternalValue> { ["ctx"] = ExternalValue.Json($"{{\"id\": {i}, \"items\": [{string.Join(",", Enumerable.Repeat("0", i))}]}}") } };
            Assert.Equal($"{{\"id\":{i},\"n\":{i}}}", program.EvaluateMinified(options, ct));
        }
        Assert.Equal(2, program.EvaluateToNode(new JsonnetEvaluationOptions { TopLevelArgs = new Dictionary<string, ExternalValue> { ["ctx"] = ExternalValue.Json("{\"id\": 2, \"items\": []}") } }, ct)!["id"]!.GetValue<int>());
    }

    [Fact]
    public void Compiling_reports_static_errors_early() =>
        Assert.Equal(JsonnetErrorKind.Static, Assert.Throws<JsonnetException>(() => new JsonnetEngine().Compile("function(ctx) ctx.a + undefined_var")).Kind);

    [Fact]
    public void Concurrent_evaluations_share_the_engine_safely()
    {
        var engine = new JsonnetEngine();
        Parallel.For(0, 64, i =>
        {
            var r = engine.EvaluateMinified($"local n = {i}; {{n: n, s: std.toString(std.range(0, n % 5))}}", cancellationToken: CancellationToken.None);
            Assert.Equal($"{{\"n\":{i},\"s\":\"{Range(i % 5)}\"}}", r.Replace("\\\"", "\"", StringComparison.Ordinal));
        });

        static string Range(int n) => "[" + string.Join(", ", Enumerable.Range(0, n + 1)) + "]";
    }

    [Fact]
    public void The_file_runner_prints_like_the_reference_cli()
    {
        Write("lib/l.libsonnet", "{ v: 'lib' }");
        var main = Write("main.jsonnet", "function(t) { t: t, lib: (import 'l.libsonnet').v, e: std.extVar('e') }");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = JsonnetFileRunner.Run(main, new JsonnetRunRequest
        {
            TlaStr = ["t=T"],
            ExtCode = ["e=1+1"],
            LibraryPaths = [Path.Combine(_dir, "lib")],
        }, stdout, stderr);
        Assert.Equal(0, code);
        Assert.Equal("{\n   \"e\": 2,\n   \"lib\": \"lib\",\n   \"t\": \"T\"\n}\n", stdout.ToString());
        Assert.Equal("", stderr.ToString());
    }

    [Fact]
    public void The_file_runner_reads_standard_input_for_a_dash()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.Equal(0, JsonnetFileRunner.Run("-", new JsonnetRunRequest(), new StringReader("{f: std.thisFile}"), stdout, stderr));
        Assert.Equal("{\n   \"f\": \"<stdin>\"\n}\n", stdout.ToString());
    }

    [Fact]
    public void The_file_runner_reports_errors_on_stderr_with_exit_code_1()
    {
        var main = Write("bad.jsonnet", "{ a: error 'boom' }");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.Equal(1, JsonnetFileRunner.Run(main, new JsonnetRunRequest(), stdout, stderr));
        Assert.Equal("", stdout.ToString());
        Assert.StartsWith("RUNTIME ERROR: boom\n", stderr.ToString().Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void Non_utf8_bytes_survive_importbin()
    {
        var path = Path.Combine(_dir, "bin.dat");
        File.WriteAllBytes(path, [255, 0, 254]);
        Write("m.jsonnet", "importbin 'bin.dat'");
        var options = new JsonnetEvaluationOptions { ImportResolver = new FileSystemImportResolver() };
        Assert.Equal("[255,0,254]", Eval.Engine.EvaluateMinified("importbin 'bin.dat'", Path.Combine(_dir, "m.jsonnet"), options, TestContext.Current.CancellationToken));
    }
}
