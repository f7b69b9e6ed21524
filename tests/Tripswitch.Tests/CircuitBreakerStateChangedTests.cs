using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests;

/// <summary><see cref="CircuitBreaker.StateChanged"/> on a single thread (the concurrent cases are in Controller/ConcurrencyTests).</summary>
public class CircuitBreakerStateChangedTests
{
    private static readonly TimeSpan _recovery = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _time = new();

    private CircuitBreaker Create(int failureThreshold = 1, int successThreshold = 1)
        => TestBreakers.Create(_time, o =>
        {
            o.Name = "events";
            o.FailureThreshold = failureThreshold;
            o.SuccessThreshold = successThreshold;
            o.RecoveryTimeout = _recovery;
        });

    [Fact]
    public void StateChanged_Trip_RaisedBeforeTheTrippingCallReturnsWithSenderAndTransition()
    {
        var breaker = Create(failureThreshold: 2);
        object? sender = null;
        var seen = new List<CircuitTransition>();
        breaker.StateChanged += (s, t) =>
        {
            sender = s;
            seen.Add(t);
        };
        var cause = new TestFailureException();

        Assert.Throws<TestFailureException>(() => breaker.Execute(() => throw new TestFailureException()));
        Assert.Empty(seen);
        Assert.Throws<TestFailureException>(() => breaker.Execute(() => throw cause));

        CircuitTransition t = Assert.Single(seen);
        Assert.Same(breaker, sender);
        Assert.Equal(new CircuitTransition("events", CircuitState.Closed, CircuitState.Open, _time.GetUtcNow(), cause), t);
    }

    [Fact]
    public void StateChanged_EveryKindOfTransition_RaisedOnceEachInOrderMatchingTheLog()
    {
        var breaker = Create();
        var recorder = new TransitionRecorder(breaker);

        TestBreakers.Fail(breaker); // C→O
        _time.Advance(_recovery);
        Assert.Equal(CircuitState.HalfOpen, breaker.State); // O→H
        TestBreakers.Fail(breaker); // H→O
        _time.Advance(_recovery);
        TestBreakers.Succeed(breaker); // O→H, H→C
        breaker.Isolate(); // C→I
        breaker.Isolate(); // no change
        breaker.Reset(); // I→C
        breaker.Reset(); // no change

        Assert.Equal(
            [
                (CircuitState.Closed, CircuitState.Open),
                (CircuitState.Open, CircuitState.HalfOpen),
                (CircuitState.HalfOpen, CircuitState.Open),
                (CircuitState.Open, CircuitState.HalfOpen),
                (CircuitState.HalfOpen, CircuitState.Closed),
                (CircuitState.Closed, CircuitState.Isolated),
                (CircuitState.Isolated, CircuitState.Closed),
            ],
            recorder.Pairs);
        Assert.Equal(breaker.GetSummary().Transitions, recorder.Transitions);
    }

    [Fact]
    public void StateChanged_HandlerThrows_BreakerAndCallerAreUnaffected()
    {
        var breaker = Create();
        breaker.StateChanged += (_, _) => throw new InvalidOperationException("handler bug");

        var failure = new TestFailureException();
        var thrown = Assert.Throws<TestFailureException>(() => breaker.Execute(() => throw failure));

        Assert.Same(failure, thrown); // the caller sees its own failure, not the handler's
        Assert.Equal(CircuitState.Open, breaker.State);
        _time.Advance(_recovery);
        Assert.Equal(7, breaker.Execute(() => 7)); // still working: probes and closes
        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal(3, breaker.GetSummary().Transitions.Count);
        breaker.Isolate();
        Assert.Equal(CircuitState.Isolated, breaker.State);
    }

    [Fact]
    public void StateChanged_HandlerThrows_LaterTransitionsAreStillDelivered()
    {
        var breaker = Create();
        var seen = new List<CircuitState>();
        breaker.StateChanged += (_, t) =>
        {
            seen.Add(t.To);
            throw new InvalidOperationException("handler bug");
        };

        TestBreakers.Fail(breaker);
        breaker.Reset();
        breaker.Isolate();

        Assert.Equal([CircuitState.Open, CircuitState.Closed, CircuitState.Isolated], seen);
    }

    [Fact]
    public async Task StateChanged_HandlerCallsResetOnTrip_NoDeadlockAndBothTransitionsDeliveredInOrder()
    {
        var breaker = Create();
        var recorder = new TransitionRecorder(breaker);
        breaker.StateChanged += (_, t) =>
        {
            if (t.To == CircuitState.Open)
            {
                breaker.Reset();
            }
        };

        // Run on a worker with a generous bound so that a deadlock fails the test instead of hanging it.
        await Task.Run(() => Assert.Throws<TestFailureException>(() => breaker.Execute(() => throw new TestFailureException())), TestContext.Current.CancellationToken)
            .WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.Equal([(CircuitState.Closed, CircuitState.Open), (CircuitState.Open, CircuitState.Closed)], recorder.Pairs);
        Assert.Equal(1, breaker.Execute(() => 1));
    }

    [Fact]
    public async Task StateChanged_HandlerCallsIntoTheBreaker_CanExecuteAndReadSummary()
    {
        var breaker = Create();
        CircuitState? stateSeenInHandler = null;
        long rejectedSeenInHandler = -1;
        breaker.StateChanged += (sender, t) =>
        {
            if (t.To == CircuitState.Open)
            {
                stateSeenInHandler = breaker.State;
                Assert.False(breaker.TryAcquirePermit(out CircuitPermit _, out TimeSpan _)); // rejected: the circuit is open
                rejectedSeenInHandler = breaker.GetSummary().Rejected;
            }
        };

        await Task.Run(() => TestBreakers.Fail(breaker), TestContext.Current.CancellationToken)
            .WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(CircuitState.Open, stateSeenInHandler);
        Assert.Equal(1, rejectedSeenInHandler);
    }

    [Fact]
    public void StateChanged_RaisedOutsideTheBreakersLock()
    {
        var breaker = Create();
        bool otherThreadGotSummary = false;
        breaker.StateChanged += (_, _) =>
        {
            using var done = new ManualResetEventSlim();
            var thread = new Thread(() =>
            {
                _ = breaker.GetSummary(); // takes the breaker's lock
                done.Set();
            })
            {
                IsBackground = true,
            };
            thread.Start();
            otherThreadGotSummary = done.Wait(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        };

        TestBreakers.Fail(breaker);

        Assert.True(otherThreadGotSummary);
    }

    [Fact]
    public void StateChanged_UnsubscribedHandler_IsNotCalled()
    {
        var breaker = Create();
        int calls = 0;
        void Handler(object? sender, CircuitTransition t) => calls++;
        breaker.StateChanged += Handler;
        var stillSubscribed = new TransitionRecorder(breaker); // the positive control: Reset does raise the event
        TestBreakers.Fail(breaker);

        breaker.StateChanged -= Handler;
        breaker.Reset();

        Assert.Equal(1, calls);
        Assert.Equal([(CircuitState.Closed, CircuitState.Open), (CircuitState.Open, CircuitState.Closed)], stillSubscribed.Pairs);
    }
}
