using Gatehouse.Jsonnet.Syntax;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Gatehouse.Jsonnet.Runtime;

internal static partial class StdLib
{
    private static void RegisterEncoding(Registry r)
    {
        r.Add("base64", ["input"], (ev, a) =>
        {
            var v = Arg(a, 0);
            byte[] bytes;
            if (v is StringValue s)
            {
                bytes = Encoding.UTF8.GetBytes(s.Value);
            }
            else if (v is ArrayValue arr)
            {
                bytes = new byte[arr.Length];
                for (var i = 0; i < bytes.Length; i++)
                {
                    var e = arr.Items[i].Force();
                    if (e is not NumberValue n || n.Value < 0 || n.Value > 255 || n.Value != Math.Floor(n.Value))
                    {
                        throw ev.Error($"base64 encountered invalid codepoint value in the array (must be 0 <= X <= 255), got {Manifester.ToJson(ev, e, null, JsonStyle.Inline)}", null);
                    }
                    bytes[i] = (byte)n.Value;
                }
            }
            else
            {
                throw ev.Error($"base64 can only base64 encode strings / arrays of single bytes, got {v.TypeName}", null);
            }
            return S(Convert.ToBase64String(bytes));
        });
        r.Add("base64DecodeBytes", ["str"], (ev, a) =>
        {
            var bytes = DecodeBase64(ev, Str(ev, a, 0, "base64DecodeBytes"));
            var items = new Thunk[bytes.Length];
            for (var i = 0; i < items.Length; i++)
            {
                items[i] = N(bytes[i]);
            }
            return new ArrayValue(items);
        });
        r.Add("base64Decode", ["str"], (ev, a) => S(new UTF8Encoding(false, false).GetString(DecodeBase64(ev, Str(ev, a, 0, "base64Decode")))));
        r.Add("md5", ["s"], (ev, a) => S(Hex(MD5.HashData(Encoding.UTF8.GetBytes(Str(ev, a, 0, "md5"))))));
        r.Add("sha1", ["s"], (ev, a) => S(Hex(SHA1.HashData(Encoding.UTF8.GetBytes(Str(ev, a, 0, "sha1"))))));
        r.Add("sha256", ["s"], (ev, a) => S(Hex(SHA256.HashData(Encoding.UTF8.GetBytes(Str(ev, a, 0, "sha256"))))));
        r.Add("sha512", ["s"], (ev, a) => S(Hex(SHA512.HashData(Encoding.UTF8.GetBytes(Str(ev, a, 0, "sha512"))))));
        r.Add("sha3", ["s"], (ev, a) =>
        {
            if (!SHA3_512.IsSupported)
            {
                throw ev.Error("sha3 is not supported on this platform", null);
            }
            return S(Hex(SHA3_512.HashData(Encoding.UTF8.GetBytes(Str(ev, a, 0, "sha3")))));
        });
        r.Add("parseJson", ["str"], (ev, a) => ParseJson(ev, Str(ev, a, 0, "parseJson")));
        r.Add("parseYaml", ["str"], (ev, a) => YamlParser.Parse(ev, Str(ev, a, 0, "parseYaml")));
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    private static byte[] DecodeBase64(Evaluator ev, string s)
    {
        if (s.Length % 4 != 0)
        {
            throw ev.Error($"input string appears not to be a base64 encoded string. Wrong length found ({s.Length})", null);
        }
        try
        {
            return Convert.FromBase64String(s);
        }
        catch (FormatException)
        {
            throw ev.Error("input string appears not to be a base64 encoded string.", null);
        }
    }

    private static Value ParseJson(Evaluator ev, string text)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 10000 });
        }
        catch (JsonException e)
        {
            throw ev.Error($"failed to parse JSON: {e.Message}", null);
        }
        using (doc)
        {
            return FromJson(doc.RootElement);
        }
    }

    public static Value FromJson(JsonElement e)
    {
        RuntimeGuard.EnsureStack();
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
            {
                var fields = new Dictionary<string, ObjectField>(StringComparer.Ordinal);
                foreach (var p in e.EnumerateObject())
                {
                    fields[p.Name] = new ObjectField(p.Name, FieldVisibility.Inherit, false, null, null, FromJson(p.Value));
                }
                return new ObjectValue([ObjectLayer.Constant(fields)]);
            }
            case JsonValueKind.Array:
            {
                var items = new Thunk[e.GetArrayLength()];
                var i = 0;
                foreach (var x in e.EnumerateArray())
                {
                    items[i++] = FromJson(x);
                }
                return new ArrayValue(items);
            }
            case JsonValueKind.String:
                return S(e.GetString()!);
            case JsonValueKind.Number:
                return N(double.Parse(e.GetRawText(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture));
            case JsonValueKind.True:
                return BoolValue.True;
            case JsonValueKind.False:
                return BoolValue.False;
            default:
                return NullValue.Instance;
        }
    }
}
