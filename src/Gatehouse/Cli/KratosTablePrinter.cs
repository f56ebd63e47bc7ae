using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Cli;

/// <summary>
/// Kratos's <c>--format</c> and <c>--quiet</c> output (ory/x <c>cmdx.PrintRow</c> and <c>cmdx.PrintTable</c>): a table
/// aligned as Go's <c>text/tabwriter</c> aligns it with tabs (one row vertically, several under a header), JSON (one
/// line) or indented JSON; with <c>--quiet</c> only each row's first column. Kratos also has <c>yaml</c>,
/// <c>jsonpath=…</c> and <c>jsonpointer=…</c>; Gatehouse refuses them.
/// </summary>
internal sealed class KratosTablePrinter
{
    private static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true };

    private readonly string _format;
    private readonly TextWriter _out;

    private KratosTablePrinter(string format, TextWriter output)
    {
        _format = format;
        _out = output;
    }

    public static Option<string> FormatOption() => new("--format")
    {
        Description = "Set the output format: table, json or json-pretty.",
        DefaultValueFactory = _ => "table",
    };

    public static Option<bool> QuietOption() => new("--quiet", "-q") { Description = "Be quiet with output printing." };

    /// <summary>The printer <c>--format</c> and <c>--quiet</c> ask for; quiet wins, as in Kratos.</summary>
    /// <exception cref="ArgumentException">An output format Gatehouse does not print.</exception>
    public static KratosTablePrinter From(ParseResult parse, Option<string> format, Option<bool> quiet, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(parse);
        return Create(parse.GetValue(quiet) ? "quiet" : parse.GetValue(format) ?? "table", output);
    }

    /// <summary>A printer for <paramref name="format"/>: <c>table</c> (or Kratos's <c>default</c>), <c>json</c>, <c>json-pretty</c> or <c>quiet</c>.</summary>
    /// <exception cref="ArgumentException">An output format Gatehouse does not print.</exception>
    public static KratosTablePrinter Create(string format, TextWriter output) => format switch
    {
        "table" or "default" => new("table", output),
        "json" or "json-pretty" or "quiet" => new(format, output),
        _ => throw new ArgumentException($"--format \"{format}\" is not supported: use table, json or json-pretty"),
    };

    /// <summary>One row: in a table each header beside its value, one pair a line.</summary>
    public void Row(IReadOnlyList<string> header, IReadOnlyList<string> columns, JsonNode json)
    {
        switch (_format)
        {
            case "quiet":
                _out.Write(columns[0] + "\n");
                break;
            case "table":
                _out.Write(Align(header.Select((h, i) => new[] { h, columns[i] })));
                break;
            default:
                Json(json);
                break;
        }
    }

    /// <summary>Several rows under a header.</summary>
    public void Table(IReadOnlyList<string> header, IReadOnlyList<IReadOnlyList<string>> rows, JsonNode json)
    {
        switch (_format)
        {
            case "quiet":
                if (rows.Count == 0) _out.Write("\n");
                foreach (var row in rows) _out.Write(row[0] + "\n");
                break;
            case "table":
                _out.Write(Align([header, .. rows]));
                break;
            default:
                Json(json);
                break;
        }
    }

    private void Json(JsonNode json) => _out.Write((_format == "json-pretty" ? json.ToJsonString(Pretty) : json.ToJsonString()) + "\n");

    /// <summary>
    /// Go's <c>tabwriter.NewWriter(w, 0, 8, 1, '\t', 0)</c> over lines whose every cell ends in a tab: a column is as
    /// wide as its widest cell plus one, rounded up to a multiple of 8, and each cell is followed by the tabs that reach it.
    /// </summary>
    public static string Align(IEnumerable<IReadOnlyList<string>> lines)
    {
        var rows = lines.ToList();
        var widths = new List<int>();
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Count; i++)
            {
                if (i == widths.Count) widths.Add(0);
                widths[i] = Math.Max(widths[i], row[i].Length + 1);
            }
        }
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Count; i++)
            {
                var cell = (widths[i] + 7) / 8 * 8;
                text.Append(row[i]).Append('\t', (cell - row[i].Length + 7) / 8);
            }
            text.Append('\n');
        }
        return text.ToString();
    }
}
