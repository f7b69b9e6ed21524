using System.Globalization;
using Xunit;

namespace Tripswitch.Tests;

public class CircuitOpenExceptionTests
{
    [Fact]
    public void Ctor_Open_SetsPropertiesAndSeedStyleMessage()
    {
        var ex = new CircuitOpenException("openai/gpt-4.1", CircuitState.Open, TimeSpan.FromMilliseconds(12_300));

        Assert.Equal("openai/gpt-4.1", ex.CircuitName);
        Assert.Equal(CircuitState.Open, ex.State);
        Assert.Equal(TimeSpan.FromMilliseconds(12_300), ex.RetryAfter);
        Assert.Equal("Circuit 'openai/gpt-4.1' is open. Retry after 12.3s", ex.Message);
    }

    [Theory]
    [InlineData(12_340, "12.3")]
    [InlineData(12_360, "12.4")]
    [InlineData(60_000, "60.0")]
    [InlineData(1, "0.0")]
    [InlineData(0, "0.0")]
    [InlineData(3_600_000, "3600.0")]
    public void Message_RetryAfter_HasOneDecimal(int milliseconds, string seconds)
    {
        var ex = new CircuitOpenException("c", CircuitState.Open, TimeSpan.FromMilliseconds(milliseconds));

        Assert.Equal($"Circuit 'c' is open. Retry after {seconds}s", ex.Message);
    }

    [Fact]
    public void Message_CultureWithDecimalComma_StillUsesAPoint()
    {
        CultureInfo saved = CultureInfo.CurrentCulture;
        CultureInfo savedUi = CultureInfo.CurrentUICulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            CultureInfo.CurrentUICulture = new CultureInfo("fr-FR");

            var ex = new CircuitOpenException("c", CircuitState.Open, TimeSpan.FromMilliseconds(12_300));

            Assert.Equal("Circuit 'c' is open. Retry after 12.3s", ex.Message);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
            CultureInfo.CurrentUICulture = savedUi;
        }
    }

    [Fact]
    public void Ctor_NegativeRetryAfter_IsClampedToZero()
    {
        var ex = new CircuitOpenException("c", CircuitState.Open, TimeSpan.FromSeconds(-5));

        Assert.Equal(TimeSpan.Zero, ex.RetryAfter);
        Assert.Equal("Circuit 'c' is open. Retry after 0.0s", ex.Message);
    }

    [Fact]
    public void Ctor_Isolated_MessageSaysIsolatedAndKeepsMaxRetryAfter()
    {
        var ex = new CircuitOpenException("c", CircuitState.Isolated, TimeSpan.MaxValue);

        Assert.Equal(CircuitState.Isolated, ex.State);
        Assert.Equal(TimeSpan.MaxValue, ex.RetryAfter);
        Assert.StartsWith("Circuit 'c' is isolated", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ctor_HalfOpen_MessageNamesTheCircuitAndHalfOpen()
    {
        var ex = new CircuitOpenException("c", CircuitState.HalfOpen, TimeSpan.Zero);

        Assert.Equal(CircuitState.HalfOpen, ex.State);
        Assert.Equal(TimeSpan.Zero, ex.RetryAfter);
        Assert.StartsWith("Circuit 'c' is half-open", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ctor_Parameterless_HasUsableDefaults()
    {
        var ex = new CircuitOpenException();

        Assert.Equal("unknown", ex.CircuitName);
        Assert.Equal(CircuitState.Open, ex.State);
        Assert.Equal(TimeSpan.Zero, ex.RetryAfter);
        Assert.Null(ex.InnerException);
    }

    [Fact]
    public void Ctor_MessageAndInner_KeepsThem()
    {
        var inner = new TestFailureException();

        var withMessage = new CircuitOpenException("custom");
        var withInner = new CircuitOpenException("custom2", inner);

        Assert.Equal("custom", withMessage.Message);
        Assert.Equal("custom2", withInner.Message);
        Assert.Same(inner, withInner.InnerException);
        Assert.Equal(CircuitState.Open, withInner.State);
        Assert.Equal(TimeSpan.Zero, withInner.RetryAfter);
    }
}
