using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;

namespace Gatehouse.Ui;

/// <summary>An HTML attribute: a value (encoded when written; null leaves the attribute out) or a boolean flag.</summary>
public readonly record struct Attr(string Name, string? Value, bool IsFlag = false)
{
    public static Attr Of(string name, string? value) => new(name, value);

    /// <summary>A boolean attribute (<c>required</c>, <c>disabled</c>, …), written only when <paramref name="on"/>.</summary>
    public static Attr Flag(string name, bool on) => new(name, on ? "" : null, IsFlag: true);
}

/// <summary>
/// Builds HTML where every text and attribute value goes through <see cref="HtmlEncoder"/>; tag and attribute names
/// come only from Gatehouse's code, never from a flow, so nothing a user or a flow supplies can become markup.
/// </summary>
public sealed class HtmlWriter
{
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);
    private readonly StringBuilder _html = new();

    public HtmlWriter Raw(string trustedMarkup)
    {
        _html.Append(trustedMarkup);
        return this;
    }

    public HtmlWriter Open(string tag, params ReadOnlySpan<Attr> attributes)
    {
        _html.Append('<').Append(tag);
        foreach (var a in attributes)
        {
            if (a.Value is null) continue;
            _html.Append(' ').Append(a.Name);
            if (a.IsFlag) continue;
            _html.Append("=\"").Append(Encoder.Encode(a.Value)).Append('"');
        }
        _html.Append('>');
        return this;
    }

    /// <summary>A void element (<c>input</c>, <c>meta</c>, <c>link</c>): no content, no end tag.</summary>
    public HtmlWriter Void(string tag, params ReadOnlySpan<Attr> attributes) => Open(tag, attributes);

    public HtmlWriter Close(string tag)
    {
        _html.Append("</").Append(tag).Append('>');
        return this;
    }

    public HtmlWriter Text(string? text)
    {
        if (!string.IsNullOrEmpty(text)) _html.Append(Encoder.Encode(text));
        return this;
    }

    /// <summary><c>&lt;tag attributes&gt;text&lt;/tag&gt;</c>.</summary>
    public HtmlWriter Element(string tag, string? text, params ReadOnlySpan<Attr> attributes) => Open(tag, attributes).Text(text).Close(tag);

    public override string ToString() => _html.ToString();
}
