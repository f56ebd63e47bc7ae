using System.Text.RegularExpressions;

namespace Gatehouse.Courier.Templates;

/// <summary>
/// Translates the common forms of Kratos's Go templates into Liquid, so existing Kratos override templates keep working:
/// <c>{{ .Field }}</c> and <c>{{ .Identity.traits.email }}</c> become <c>{{ Field }}</c> / <c>{{ Identity.traits.email }}</c>,
/// <c>{{ if .X }}</c> … <c>{{ else }}</c> … <c>{{ end }}</c> become <c>{% if X %}</c> … <c>{% else %}</c> … <c>{% endif %}</c>,
/// <c>{{/* comments */}}</c> are dropped; trim markers (<c>{{-</c>, <c>-}}</c>) are kept. Anything else is left
/// as it is and read as Liquid, so a template may also be written in Liquid directly.
/// </summary>
public static partial class GoTemplateSyntax
{
    public static string ToLiquid(string template)
    {
        template = Comment().Replace(template, "");
        return Action().Replace(template, m =>
        {
            var open = m.Groups["lt"].Success ? "-" : "";
            var close = m.Groups["rt"].Success ? "-" : "";
            var body = m.Groups["body"].Value.Trim();
            if (Field().Match(body) is { Success: true } field) return $"{{{{{open} {field.Groups["path"].Value} {close}}}}}";
            if (IfField().Match(body) is { Success: true } cond) return $"{{%{open} if {cond.Groups["path"].Value} {close}%}}";
            return body switch
            {
                "else" => $"{{%{open} else {close}%}}",
                "end" => $"{{%{open} endif {close}%}}",
                _ => m.Value,
            };
        });
    }

    [GeneratedRegex(@"\{\{-?\s*/\*.*?\*/\s*-?\}\}", RegexOptions.Singleline)]
    private static partial Regex Comment();

    [GeneratedRegex(@"\{\{(?<lt>-(?=\s))?(?<body>.*?)(?<rt>(?<=\s)-)?\}\}", RegexOptions.Singleline)]
    private static partial Regex Action();

    [GeneratedRegex(@"^\.(?<path>[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*)$")]
    private static partial Regex Field();

    [GeneratedRegex(@"^if\s+\.(?<path>[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*)$")]
    private static partial Regex IfField();
}
