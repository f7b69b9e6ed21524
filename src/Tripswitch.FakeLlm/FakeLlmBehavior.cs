using System.Globalization;

namespace Tripswitch.FakeLlm;

/// <summary>
/// What a <see cref="FakeModel"/> does with one chat-completion request: answer, fail with a status code, rate-limit,
/// hang, or cut a response midway. Build one with the static factories and give it to
/// <see cref="FakeModel.Always"/> or <see cref="FakeModel.Enqueue"/>.
/// </summary>
public abstract class FakeLlmBehavior
{
    private protected FakeLlmBehavior()
    {
    }

    /// <summary>Answers with <paramref name="text"/> (one JSON completion, or SSE chunks when the request streams).</summary>
    /// <param name="text">The assistant's reply.</param>
    /// <returns>The behavior.</returns>
    public static FakeLlmBehavior Reply(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new ReplyBehavior(text);
    }

    /// <summary>Answers with HTTP 500 and an OpenAI-style error body (<c>server_error</c>).</summary>
    /// <returns>The behavior.</returns>
    public static FakeLlmBehavior ServerError() => Error(500);

    /// <summary>
    /// Answers with <paramref name="statusCode"/>, an OpenAI-style error body and the given headers, sent exactly as
    /// written (malformed values included), e.g. <c>Error(503, ("Retry-After", "soon"))</c>.
    /// </summary>
    /// <param name="statusCode">The status code, 400 to 599.</param>
    /// <param name="headers">Response headers, sent as written.</param>
    /// <returns>The behavior.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="statusCode"/> is not an error status.</exception>
    public static FakeLlmBehavior Error(int statusCode, params (string Name, string Value)[] headers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 599);
        ArgumentNullException.ThrowIfNull(headers);
        return new ErrorBehavior(statusCode, [.. headers]);
    }

    /// <summary>
    /// Answers with HTTP 429 the way OpenAI does when a request limit is exhausted: <c>Retry-After</c> (whole seconds,
    /// rounded up), <c>retry-after-ms</c>, <c>x-ratelimit-remaining-requests: 0</c> and <c>x-ratelimit-reset-requests</c>
    /// (OpenAI's duration format, like <c>6m0s</c>), all saying <paramref name="retryAfter"/>.
    /// </summary>
    /// <param name="retryAfter">How long the server asks callers to wait.</param>
    /// <returns>The behavior.</returns>
    public static FakeLlmBehavior RateLimited(TimeSpan retryAfter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retryAfter, TimeSpan.Zero);
        return RateLimited(
            ("Retry-After", ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture)),
            ("retry-after-ms", ((long)Math.Ceiling(retryAfter.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture)),
            ("x-ratelimit-limit-requests", "500"),
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-requests", FormatDuration(retryAfter)));
    }

    /// <summary>Answers with HTTP 429 (<c>rate_limit_exceeded</c>) and exactly the given headers, e.g. only <c>("retry-after-ms", "1500")</c>.</summary>
    /// <param name="headers">Response headers, sent as written (malformed values included).</param>
    /// <returns>The behavior.</returns>
    public static FakeLlmBehavior RateLimited(params (string Name, string Value)[] headers) => Error(429, headers);

    /// <summary>
    /// Holds each request until the returned hang is released (then answers as told) or the client goes away.
    /// A server that is disposed lets go of every hanging request.
    /// </summary>
    /// <returns>The hang: await <see cref="FakeLlmHang.Entered"/>, then <see cref="FakeLlmHang.Release(FakeLlmBehavior)"/> it.</returns>
    public static FakeLlmHang Hang() => new();

    /// <summary>
    /// Starts a successful answer, then aborts the connection midway: a streaming request gets the role chunk and
    /// <paramref name="chunksBeforeFailure"/> content chunks of <paramref name="text"/>; a non-streaming request gets the
    /// status line, the headers and half of the body.
    /// </summary>
    /// <param name="text">The reply that is never finished.</param>
    /// <param name="chunksBeforeFailure">How many content chunks reach the client before the connection is cut.</param>
    /// <returns>The behavior.</returns>
    public static FakeLlmBehavior FailMidway(string text, int chunksBeforeFailure = 2)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegative(chunksBeforeFailure);
        return new FailMidwayBehavior(text, chunksBeforeFailure);
    }

    /// <summary>
    /// Formats a duration the way OpenAI's <c>x-ratelimit-reset-*</c> headers do (Go's duration format):
    /// <c>1h0m0s</c>, <c>6m0s</c>, <c>1.5s</c>, <c>20ms</c>.
    /// </summary>
    /// <param name="duration">The duration, not negative.</param>
    /// <returns>The text.</returns>
    public static string FormatDuration(TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);
        if (duration < TimeSpan.FromSeconds(1))
        {
            return string.Create(CultureInfo.InvariantCulture, $"{Math.Ceiling(duration.TotalMilliseconds)}ms");
        }

        long hours = (long)duration.TotalHours;
        long minutes = duration.Minutes;
        double seconds = Math.Round(duration.TotalSeconds - (hours * 3600) - (minutes * 60), 3);
        return hours > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{hours}h{minutes}m{seconds}s")
            : minutes > 0
                ? string.Create(CultureInfo.InvariantCulture, $"{minutes}m{seconds}s")
                : string.Create(CultureInfo.InvariantCulture, $"{seconds}s");
    }

    internal sealed class ReplyBehavior(string text) : FakeLlmBehavior
    {
        public string Text { get; } = text;
    }

    internal sealed class ErrorBehavior(int statusCode, IReadOnlyList<(string Name, string Value)> headers) : FakeLlmBehavior
    {
        public int StatusCode { get; } = statusCode;

        public IReadOnlyList<(string Name, string Value)> Headers { get; } = headers;
    }

    internal sealed class FailMidwayBehavior(string text, int chunksBeforeFailure) : FakeLlmBehavior
    {
        public string Text { get; } = text;

        public int ChunksBeforeFailure { get; } = chunksBeforeFailure;
    }
}
