using System.Globalization;
using System.Net.Http.Headers;

namespace Tripswitch.Http;

/// <summary>
/// Reads how long a server asked callers to wait from response headers: <c>Retry-After</c> (delta-seconds or an
/// HTTP date), <c>retry-after-ms</c> (OpenAI, Azure OpenAI) and <c>x-ratelimit-reset-*</c> (OpenAI's
/// <c>x-ratelimit-reset-requests</c> / <c>x-ratelimit-reset-tokens</c>, values like <c>6m0s</c>, <c>1.5s</c>, <c>20ms</c>,
/// or plain seconds). Malformed values are ignored, never thrown.
/// </summary>
public static class RetryAfterParser
{
    private const string RetryAfterMs = "retry-after-ms";
    private const string RateLimitResetPrefix = "x-ratelimit-reset";
    private const string RateLimitRemainingPrefix = "x-ratelimit-remaining";

    /// <summary>Reads the wait the response asks for, or <see langword="null"/> when it asks for none (or only malformed ones).</summary>
    /// <param name="response">The response.</param>
    /// <param name="timeProvider">Gives "now" for an HTTP-date <c>Retry-After</c>.</param>
    /// <returns>The wait, never negative, or <see langword="null"/>.</returns>
    public static TimeSpan? Parse(HttpResponseMessage response, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(timeProvider);
        HttpResponseHeaders headers = response.Headers;

        // Most precise first: the millisecond header, then the standard one.
        if (TryGetSingle(headers, RetryAfterMs, out string? ms)
            && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out double milliseconds)
            && double.IsFinite(milliseconds) && milliseconds >= 0 && milliseconds < TimeSpan.MaxValue.TotalMilliseconds)
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }

        if (TryRetryAfter(headers, timeProvider, out TimeSpan retryAfter))
        {
            return retryAfter;
        }

        return RateLimitReset(headers);
    }

    private static bool TryRetryAfter(HttpResponseHeaders headers, TimeProvider timeProvider, out TimeSpan wait)
    {
        wait = default;
        if (!TryGetSingle(headers, "Retry-After", out string? raw))
        {
            return false;
        }

        raw = raw.Trim();
        if (long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out long seconds))
        {
            if (seconds > (long)TimeSpan.MaxValue.TotalSeconds)
            {
                return false;
            }

            wait = TimeSpan.FromSeconds(seconds);
            return true;
        }

        if (RetryConditionHeaderValue.TryParse(raw, out RetryConditionHeaderValue? parsed) && parsed.Date is { } date)
        {
            TimeSpan until = date - timeProvider.GetUtcNow();
            wait = until > TimeSpan.Zero ? until : TimeSpan.Zero;
            return true;
        }

        return false;
    }

    /// <summary>The reset time of the exhausted rate limits (remaining 0), or the longest reset when none says it is exhausted.</summary>
    private static TimeSpan? RateLimitReset(HttpResponseHeaders headers)
    {
        TimeSpan? exhausted = null;
        TimeSpan? longest = null;
        foreach (KeyValuePair<string, IEnumerable<string>> header in headers)
        {
            if (!header.Key.StartsWith(RateLimitResetPrefix, StringComparison.OrdinalIgnoreCase)
                || !TryParseDuration(header.Value.FirstOrDefault(), out TimeSpan reset))
            {
                continue;
            }

            longest = longest is { } l && l >= reset ? l : reset;
            string suffix = header.Key[RateLimitResetPrefix.Length..];
            if (TryGetSingle(headers, RateLimitRemainingPrefix + suffix, out string? remaining) && remaining.Trim() == "0")
            {
                exhausted = exhausted is { } e && e >= reset ? e : reset;
            }
        }

        return exhausted ?? longest;
    }

    /// <summary>Parses <c>1h2m3.5s</c>, <c>6m0s</c>, <c>20ms</c> or a plain number of seconds.</summary>
    /// <param name="value">The text.</param>
    /// <param name="duration">The duration when parsed.</param>
    /// <returns>Whether the text was a valid, non-negative duration.</returns>
    public static bool TryParseDuration(string? value, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        ReadOnlySpan<char> text = value.AsSpan().Trim();
        if (double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double plainSeconds))
        {
            return TrySeconds(plainSeconds, out duration);
        }

        double totalSeconds = 0;
        bool any = false;
        while (!text.IsEmpty)
        {
            int numberLength = 0;
            while (numberLength < text.Length && (char.IsAsciiDigit(text[numberLength]) || text[numberLength] == '.'))
            {
                numberLength++;
            }

            if (numberLength == 0
                || !double.TryParse(text[..numberLength], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number))
            {
                return false;
            }

            text = text[numberLength..];
            double unitSeconds;
            if (text.StartsWith("ms", StringComparison.Ordinal))
            {
                unitSeconds = 0.001;
                text = text[2..];
            }
            else if (!text.IsEmpty && text[0] is 'h' or 'm' or 's')
            {
                unitSeconds = text[0] switch { 'h' => 3600, 'm' => 60, _ => 1 };
                text = text[1..];
            }
            else
            {
                return false;
            }

            totalSeconds += number * unitSeconds;
            any = true;
        }

        return any && TrySeconds(totalSeconds, out duration);
    }

    private static bool TrySeconds(double seconds, out TimeSpan duration)
    {
        duration = default;
        if (!double.IsFinite(seconds) || seconds < 0 || seconds >= TimeSpan.MaxValue.TotalSeconds)
        {
            return false;
        }

        duration = TimeSpan.FromSeconds(seconds);
        return true;
    }

    private static bool TryGetSingle(HttpResponseHeaders headers, string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value)
    {
        value = null;
        if (headers.TryGetValues(name, out IEnumerable<string>? values))
        {
            value = values.FirstOrDefault();
        }

        return value is not null;
    }
}
