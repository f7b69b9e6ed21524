namespace Tripswitch.Hosting.Logging;

/// <summary>
/// What of an exception's message the logs may carry: its head only. HTTP client exceptions put the response body
/// after a blank line (System.ClientModel's "Service request failed. Status: 500 … \n\nContent:\n{body}"), and a body
/// may hold anything a provider echoed back, so everything from the first blank line on is dropped, line breaks become
/// spaces and the rest is capped at <see cref="MaxLength"/> characters.
/// </summary>
internal static class ExceptionSummary
{
    /// <summary>The longest summary logged, in characters (an ellipsis marks a cut).</summary>
    public const int MaxLength = 200;

    /// <summary>The head of <paramref name="message"/>: up to its first blank line, on one line, at most <see cref="MaxLength"/> characters.</summary>
    public static string Of(string? message)
    {
        if (string.IsNullOrEmpty(message))
        {
            return string.Empty;
        }

        ReadOnlySpan<char> text = message.AsSpan();
        int blank = IndexOfBlankLine(text);
        if (blank >= 0)
        {
            text = text[..blank];
        }

        string oneLine = string.Join(' ', text.ToString().Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return oneLine.Length <= MaxLength ? oneLine : string.Concat(oneLine.AsSpan(0, MaxLength - 1), "…");
    }

    /// <summary>Where the first blank (empty or white-space) line starts: the index of the line break before it, or -1.</summary>
    private static int IndexOfBlankLine(ReadOnlySpan<char> text)
    {
        int lineBreak = text.IndexOf('\n');
        while (lineBreak >= 0)
        {
            ReadOnlySpan<char> rest = text[(lineBreak + 1)..];
            int next = rest.IndexOf('\n');
            ReadOnlySpan<char> line = next < 0 ? rest : rest[..next];
            if (line.IsWhiteSpace())
            {
                return lineBreak;
            }

            lineBreak = next < 0 ? -1 : lineBreak + 1 + next;
        }

        return -1;
    }
}
