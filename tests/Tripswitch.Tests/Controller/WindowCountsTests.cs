using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests.Controller;

/// <summary>
/// A time window's counts are the difference of two running totals (<c>WindowCounts</c> minus <c>WindowCounts</c>, in
/// <c>CallCounters.cs</c>): the calls that left the window must be subtracted, not added, for each count. Found by
/// mutation testing (docs/mutation.md): with a sum in place of a difference, the rest of the suite still passed.
/// </summary>
public class WindowCountsTests
{
    private static readonly TimeSpan _slowCallThreshold = TimeSpan.FromMilliseconds(100);

    [Fact]
    public void WindowCounts_TimeWindowAfterOldFailuresLeftIt_CountsOnlyTheNewOnes()
    {
        var time = TestBreakers.Clock();
        CircuitBreaker breaker = TestBreakers.Create(time, o =>
        {
            o.Rule = FailureRule.TimeWindow;
            o.SamplingDuration = TimeSpan.FromSeconds(10);
            o.MinimumThroughput = 4;
            o.FailureRatio = 0.5;
        });
        TestBreakers.Fail(breaker);
        TestBreakers.Succeed(breaker, 3); // 1 failure of 4: closed
        time.Advance(TimeSpan.FromSeconds(11)); // all of it leaves the window

        TestBreakers.Succeed(breaker, 3);
        TestBreakers.Fail(breaker); // 1 failure of the window's 4

        Assert.Equal(CircuitState.Closed, breaker.State);
        TestBreakers.Fail(breaker, 2); // positive control: 3 of 6
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void WindowCounts_TimeWindowAfterOldSlowCallsLeftIt_CountsOnlyTheNewOnes()
    {
        // The slow-call analogue: slow calls that left the window no longer count toward the slow-call ratio.
        var time = TestBreakers.Clock();
        CircuitBreaker breaker = TestBreakers.Create(time, o =>
        {
            o.Rule = FailureRule.TimeWindow;
            o.SamplingDuration = TimeSpan.FromSeconds(10);
            o.MinimumThroughput = 4;
            o.FailureRatio = 1;
            o.SlowCallThreshold = _slowCallThreshold;
            o.SlowCallRatio = 0.5; // slow calls have their own ratio: they are successes, not failures
        });
        SucceedSlowly(breaker, time);
        TestBreakers.Succeed(breaker, 3); // 1 slow call of 4: closed
        Assert.Equal(1, breaker.GetSummary().SlowCalls);
        time.Advance(TimeSpan.FromSeconds(11)); // all of it leaves the window

        TestBreakers.Succeed(breaker, 3);
        SucceedSlowly(breaker, time); // 1 slow call of the window's 4

        Assert.Equal(CircuitState.Closed, breaker.State);
        SucceedSlowly(breaker, time, 2); // positive control: 3 of 6
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    /// <summary>Successful calls that each take twice the slow-call threshold.</summary>
    private static void SucceedSlowly(CircuitBreaker breaker, FakeTimeProvider time, int calls = 1)
    {
        for (int i = 0; i < calls; i++)
        {
            CircuitPermit permit = breaker.AcquirePermit();
            time.Advance(2 * _slowCallThreshold);
            permit.RecordSuccess();
        }
    }
}
