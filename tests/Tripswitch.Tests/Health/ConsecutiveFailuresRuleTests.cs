using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests.Health;

public class ConsecutiveFailuresRuleTests
{
    [Fact]
    public void Execute_FailuresInterruptedBySuccess_OpensOnlyAfterThresholdInARow()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = RuleKit.Create(time, o => o.FailureThreshold = 3);

        RuleKit.ExecuteFailing(breaker);
        RuleKit.ExecuteFailing(breaker);
        Assert.Equal(1, breaker.Execute(() => 1));
        RuleKit.ExecuteFailing(breaker);
        RuleKit.ExecuteFailing(breaker);
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(2, breaker.GetSummary().ConsecutiveFailures);

        RuleKit.ExecuteFailing(breaker);

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(3, breaker.GetSummary().ConsecutiveFailures);
    }

    [Fact]
    public async Task ExecuteAsync_ThresholdAsyncFailures_Opens()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = RuleKit.Create(time, o => o.FailureThreshold = 2);

        await RuleKit.ExecuteFailingAsync(breaker);
        Assert.Equal(CircuitState.Closed, breaker.State);
        await RuleKit.ExecuteFailingAsync(breaker);

        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Execute_DefaultRule_IsConsecutiveFailuresOfFive()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = RuleKit.Create(time);

        RuleKit.Fail(breaker, 4);
        Assert.Equal(CircuitState.Closed, breaker.State);
        RuleKit.Fail(breaker);

        Assert.Equal(CircuitState.Open, breaker.State);
    }
}
