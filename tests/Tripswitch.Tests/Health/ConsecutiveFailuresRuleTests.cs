using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests.Health;

public class ConsecutiveFailuresRuleTests
{
    [Fact]
    public void Execute_FailuresInterruptedBySuccess_OpensOnlyAfterThresholdInARow()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o => o.FailureThreshold = 3);

        TestBreakers.ExecuteFailing(breaker);
        TestBreakers.ExecuteFailing(breaker);
        Assert.Equal(1, breaker.Execute(() => 1));
        TestBreakers.ExecuteFailing(breaker);
        TestBreakers.ExecuteFailing(breaker);
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(2, breaker.GetSummary().ConsecutiveFailures);

        TestBreakers.ExecuteFailing(breaker);

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(3, breaker.GetSummary().ConsecutiveFailures);
    }

    [Fact]
    public async Task ExecuteAsync_ThresholdAsyncFailures_Opens()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o => o.FailureThreshold = 2);

        await TestBreakers.ExecuteFailingAsync(breaker);
        Assert.Equal(CircuitState.Closed, breaker.State);
        await TestBreakers.ExecuteFailingAsync(breaker);

        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Execute_DefaultRule_IsConsecutiveFailuresOfFive()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time);

        TestBreakers.Fail(breaker, 4);
        Assert.Equal(CircuitState.Closed, breaker.State);
        TestBreakers.Fail(breaker);

        Assert.Equal(CircuitState.Open, breaker.State);
    }
}
