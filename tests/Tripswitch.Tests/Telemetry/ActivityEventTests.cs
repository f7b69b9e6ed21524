using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.Tests.Health;
using Xunit;

namespace Tripswitch.Tests.Telemetry;

/// <summary>Rejections and transitions add events to <see cref="Activity.Current"/>. Each test listens only to its own source.</summary>
public sealed class ActivityEventTests : IDisposable
{
    private const string NameTag = "tripswitch.circuit.name";
    private const string StateTag = "tripswitch.circuit.state";
    private const string PreviousStateTag = "tripswitch.circuit.previous_state";

    private readonly ActivitySource _source;
    private readonly ActivityListener _listener;

    public ActivityEventTests()
    {
        string sourceName = TestBreakers.UniqueName("Tripswitch.Tests.Activity");
        _source = new ActivitySource(sourceName);
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == sourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _source.Dispose();
    }

    [Fact]
    public void Execute_TripThenRejectUnderAnActivity_AddsTransitionAndRejectionEvents()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(10);
        });
        using Activity activity = StartActivity();

        TestBreakers.ExecuteFailing(breaker);
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Throws<CircuitOpenException>(() => breaker.Execute(() => { }));

        ActivityEvent transition = Assert.Single(activity.Events, e => e.Name == "tripswitch.circuit.transition");
        Dictionary<string, object?> transitionTags = Tags(transition);
        Assert.Equal(breaker.Name, transitionTags[NameTag]);
        Assert.Equal("closed", transitionTags[PreviousStateTag]);
        Assert.Equal("open", transitionTags[StateTag]);

        ActivityEvent rejected = Assert.Single(activity.Events, e => e.Name == "tripswitch.call.rejected");
        Dictionary<string, object?> rejectedTags = Tags(rejected);
        Assert.Equal(breaker.Name, rejectedTags[NameTag]);
        Assert.Equal("open", rejectedTags[StateTag]);
        Assert.Equal(8.0, Convert.ToDouble(rejectedTags["tripswitch.retry_after"], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task ExecuteAsync_TripThenRejectUnderAnActivity_AddsEventsToTheFlowingActivity()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o => o.FailureThreshold = 2);
        using Activity activity = StartActivity();

        await TestBreakers.ExecuteFailingAsync(breaker);
        await TestBreakers.ExecuteFailingAsync(breaker); // trips on a pool thread after the await
        await Assert.ThrowsAsync<CircuitOpenException>(async () => await breaker.ExecuteAsync(ct => ValueTask.FromResult(1), TestContext.Current.CancellationToken));

        Assert.Equal(
            ["tripswitch.circuit.transition", "tripswitch.call.rejected"],
            activity.Events.Select(e => e.Name));
        Assert.All(activity.Events, e => Assert.Equal(breaker.Name, Tags(e)[NameTag]));
    }

    [Fact]
    public void AcquirePermit_HalfOpenWithProbeInFlight_RejectionEventSaysHalfOpen()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.FailureThreshold = 1;
            o.RecoveryTimeout = TimeSpan.FromSeconds(5);
        });
        TestBreakers.Fail(breaker);
        time.Advance(TimeSpan.FromSeconds(5));
        CircuitPermit probe = breaker.AcquirePermit();
        using Activity activity = StartActivity();

        Assert.Equal(CircuitState.HalfOpen, TestBreakers.Rejection(breaker).State);
        probe.RecordFailure(new TestFailureException());

        ActivityEvent rejected = Assert.Single(activity.Events, e => e.Name == "tripswitch.call.rejected");
        Assert.Equal("half_open", Tags(rejected)[StateTag]);
        Assert.Equal(0.0, Convert.ToDouble(Tags(rejected)["tripswitch.retry_after"], System.Globalization.CultureInfo.InvariantCulture));
        ActivityEvent reopened = Assert.Single(activity.Events, e => e.Name == "tripswitch.circuit.transition");
        Assert.Equal("half_open", Tags(reopened)[PreviousStateTag]);
        Assert.Equal("open", Tags(reopened)[StateTag]);
    }

    [Fact]
    public void Execute_MetricsOnlyMode_TransitionEventButNoRejectionEvent()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.Mode = CircuitBreakerMode.MetricsOnly;
            o.FailureThreshold = 1;
        });
        using Activity activity = StartActivity();

        TestBreakers.ExecuteFailing(breaker);
        breaker.Execute(() => { }); // would have been rejected; it runs

        Assert.Equal(["tripswitch.circuit.transition"], activity.Events.Select(e => e.Name));
    }

    [Fact]
    public void Isolate_UnderAnActivity_AddsTransitionEventAndIsolatedRejection()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time);
        using Activity activity = StartActivity();

        breaker.Isolate();
        Assert.Equal(CircuitState.Isolated, TestBreakers.Rejection(breaker).State);

        ActivityEvent transition = Assert.Single(activity.Events, e => e.Name == "tripswitch.circuit.transition");
        Assert.Equal("isolated", Tags(transition)[StateTag]);
        ActivityEvent rejected = Assert.Single(activity.Events, e => e.Name == "tripswitch.call.rejected");
        Assert.Equal("isolated", Tags(rejected)[StateTag]);
    }

    [Fact]
    public void Execute_ClosedCallsUnderAnActivity_AddNoEvents()
    {
        var time = new FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o => o.FailureThreshold = 3);
        using Activity activity = StartActivity();

        breaker.Execute(() => { });
        TestBreakers.ExecuteFailing(breaker);

        Assert.Empty(activity.Events);
        Assert.Equal(1, breaker.GetSummary().Failed);
    }

    private static Dictionary<string, object?> Tags(ActivityEvent e) => e.Tags.ToDictionary(t => t.Key, t => t.Value);

    private Activity StartActivity()
    {
        Activity? activity = _source.StartActivity("call upstream");
        Assert.NotNull(activity);
        Assert.Same(activity, Activity.Current);
        return activity;
    }
}
