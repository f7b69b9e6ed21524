using System.Globalization;

namespace Tripswitch.Demo;

/// <summary>Culture-invariant formatting shared by the views.</summary>
internal static class Format
{
    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary><c>6s</c>, <c>1.5s</c>, <c>0.35s</c>.</summary>
    public static string Seconds(TimeSpan span) => Invariant($"{span.TotalSeconds:0.##}s");

    /// <summary><c>2.00s</c>.</summary>
    public static string Seconds2(TimeSpan span) => Invariant($"{span.TotalSeconds:0.00}s");

    /// <summary><c>+3.71s</c>, relative to the start of the run.</summary>
    public static string Offset(TimeSpan span) => Invariant($"+{span.TotalSeconds:0.00}s");

    /// <summary><c>87.5%</c>.</summary>
    public static string Percent(double ratio) => Invariant($"{ratio * 100:0.0}%");

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A text cut to <paramref name="length"/> characters with an ellipsis.</summary>
    public static string Shorten(string text, int length) => text.Length <= length ? text : string.Concat(text.AsSpan(0, length - 1), "…");
}
