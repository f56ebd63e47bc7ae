namespace Gatehouse.Jsonnet.Syntax;

/// <summary>A range in a source file, 1-based lines and columns; the end column is exclusive.</summary>
public readonly record struct SourceLocation(string File, int Line, int Column, int EndLine, int EndColumn)
{
    /// <summary>Formats the range the way the reference implementation prints it in errors.</summary>
    public override string ToString()
    {
        if (Line == 0)
        {
            return File;
        }
        if (EndLine == Line || EndLine == 0)
        {
            return EndColumn <= Column + 1 ? $"{File}:{Line}:{Column}" : $"{File}:{Line}:{Column}-{EndColumn}";
        }
        return $"{File}:({Line}:{Column})-({EndLine}:{EndColumn})";
    }
}
