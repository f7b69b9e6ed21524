using System.Globalization;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Http.Tests;

public sealed class RetryAfterParserTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 6, 1, 12, 0, 0, TimeSpan.Zero));

    [Theory]
    [InlineData("6m0s", 360_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("20ms", 20)]
    [InlineData("1h2m3.5s", 3_723_500)]
    [InlineData("2h", 7_200_000)]
    [InlineData("1m", 60_000)]
    [InlineData("59m59.999s", 3_599_999)]
    [InlineData("0s", 0)]
    [InlineData("0ms", 0)]
    [InlineData("30", 30_000)]
    [InlineData("0.25", 250)]
    [InlineData("  7s ", 7_000)]
    [InlineData("1m500ms", 60_500)]
    public void TryParseDuration_ReadsOpenAIsFormatAndPlainSeconds(string text, long expectedMilliseconds)
    {
        Assert.True(RetryAfterParser.TryParseDuration(text, out TimeSpan duration));
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMilliseconds), duration);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("5x")]
    [InlineData("x5s")]
    [InlineData("-1s")]
    [InlineData("-5")]
    [InlineData("s")]
    [InlineData("ms")]
    [InlineData("1.2.3s")]
    [InlineData(".s")]
    [InlineData("1e3")]
    [InlineData("5 s")]
    [InlineData("1d")]
    [InlineData("6m0")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("99999999999999999999h")]
    public void TryParseDuration_RefusesMalformedValues(string? text)
    {
        Assert.False(RetryAfterParser.TryParseDuration(text, out TimeSpan duration));
        Assert.Equal(TimeSpan.Zero, duration);
    }

    [Fact]
    public void Parse_NoHeaders_IsNull()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        Assert.Null(RetryAfterParser.Parse(response, _time));
    }

    [Theory]
    [InlineData("120", 120_000)]
    [InlineData("0", 0)]
    public void Parse_RetryAfterSeconds(string value, long expectedMilliseconds)
    {
        using HttpResponseMessage response = With(("Retry-After", value));
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMilliseconds), RetryAfterParser.Parse(response, _time));
    }

    [Fact]
    public void Parse_RetryAfterHttpDate_IsRelativeToTheTimeProvider()
    {
        using HttpResponseMessage response = With(("Retry-After", _time.GetUtcNow().AddSeconds(95).ToString("r", CultureInfo.InvariantCulture)));
        Assert.Equal(TimeSpan.FromSeconds(95), RetryAfterParser.Parse(response, _time));

        _time.Advance(TimeSpan.FromSeconds(90));
        Assert.Equal(TimeSpan.FromSeconds(5), RetryAfterParser.Parse(response, _time));

        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(TimeSpan.Zero, RetryAfterParser.Parse(response, _time)); // a date in the past is "now", never negative
    }

    [Fact]
    public void Parse_RetryAfterMs_IsPreferred()
    {
        using HttpResponseMessage response = With(("Retry-After", "2"), ("retry-after-ms", "1500.5"));
        Assert.Equal(TimeSpan.FromMilliseconds(1500.5), RetryAfterParser.Parse(response, _time));
    }

    [Theory]
    [InlineData("-5")]
    [InlineData("soon")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("1e300")]
    public void Parse_MalformedRetryAfterMs_FallsBackToTheOtherHeaders(string value)
    {
        using HttpResponseMessage response = With(("retry-after-ms", value), ("Retry-After", "3"));
        Assert.Equal(TimeSpan.FromSeconds(3), RetryAfterParser.Parse(response, _time));

        using HttpResponseMessage alone = With(("retry-after-ms", value));
        Assert.Null(RetryAfterParser.Parse(alone, _time));
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-30")]
    [InlineData("1.5")]
    [InlineData("Someday, 99 Foo 2030 25:61:00 GMT")]
    [InlineData("99999999999999999999")]
    public void Parse_MalformedRetryAfter_IsIgnored(string value)
    {
        using HttpResponseMessage response = With(("Retry-After", value));
        Assert.Null(RetryAfterParser.Parse(response, _time));

        using HttpResponseMessage withReset = With(("Retry-After", value), ("x-ratelimit-reset-requests", "9s"));
        Assert.Equal(TimeSpan.FromSeconds(9), RetryAfterParser.Parse(withReset, _time));
    }

    [Fact]
    public void Parse_RateLimitReset_PrefersTheExhaustedLimit()
    {
        using HttpResponseMessage response = With(
            ("x-ratelimit-remaining-requests", "499"),
            ("x-ratelimit-reset-requests", "2m0s"),
            ("x-ratelimit-remaining-tokens", "0"),
            ("x-ratelimit-reset-tokens", "6.5s"));
        Assert.Equal(TimeSpan.FromSeconds(6.5), RetryAfterParser.Parse(response, _time));
    }

    [Theory]
    [InlineData("requests", "tokens")]
    [InlineData("tokens", "requests")]
    public void Parse_TwoExhaustedRateLimits_WaitsForTheLongerReset(string shorter, string longer)
    {
        // Both limits are spent: calls fail until the later of the two resets, whichever header comes first. A
        // third limit with an even longer reset that is not exhausted doesn't count.
        using HttpResponseMessage response = With(
            ($"x-ratelimit-remaining-{shorter}", "0"),
            ($"x-ratelimit-reset-{shorter}", "10s"),
            ($"x-ratelimit-remaining-{longer}", "0"),
            ($"x-ratelimit-reset-{longer}", "1m0s"),
            ("x-ratelimit-remaining-images", "5"),
            ("x-ratelimit-reset-images", "5m0s"));
        Assert.Equal(TimeSpan.FromMinutes(1), RetryAfterParser.Parse(response, _time));
    }

    [Fact]
    public void Parse_RateLimitReset_WithoutAnExhaustedLimit_TakesTheLongest()
    {
        using HttpResponseMessage response = With(
            ("x-ratelimit-reset-requests", "20ms"),
            ("x-ratelimit-reset-tokens", "1m30s"),
            ("x-ratelimit-reset", "45"));
        Assert.Equal(TimeSpan.FromSeconds(90), RetryAfterParser.Parse(response, _time));
    }

    [Fact]
    public void Parse_RateLimitReset_SkipsMalformedValues()
    {
        using HttpResponseMessage response = With(
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-requests", "5x"),
            ("x-ratelimit-reset-tokens", "12s"));
        Assert.Equal(TimeSpan.FromSeconds(12), RetryAfterParser.Parse(response, _time));
    }

    [Fact]
    public void Parse_RefusesNullArguments()
    {
        using var response = new HttpResponseMessage();
        Assert.Throws<ArgumentNullException>(() => RetryAfterParser.Parse(null!, _time));
        Assert.Throws<ArgumentNullException>(() => RetryAfterParser.Parse(response, null!));
    }

    private static HttpResponseMessage With(params (string Name, string Value)[] headers)
    {
        var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        foreach ((string name, string value) in headers)
        {
            Assert.True(response.Headers.TryAddWithoutValidation(name, value));
        }

        return response;
    }
}
