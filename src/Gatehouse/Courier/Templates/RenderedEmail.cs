namespace Gatehouse.Courier.Templates;

/// <summary>An e-mail rendered from a template: subject, plain-text body and, when the template has one, an HTML body.</summary>
public sealed record RenderedEmail(string Subject, string Body, string? HtmlBody);
