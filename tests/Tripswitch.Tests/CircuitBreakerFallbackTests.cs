using Microsoft.Extensions.Time.Testing;
using Tripswitch.Testing;
using Xunit;

namespace Tripswitch.Tests;

public class CircuitBreakerFallbackTests
{
    private static readonly TimeSpan _recovery = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _time = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private CircuitBreaker Create(bool fallbackOnFailure = false, int failureThreshold = 2, Func<Exception, bool>? shouldHandle = null)
        => TestBreakers.Create(_time, o =>
        {
            o.Name = "fb";
            o.FailureThreshold = failureThreshold;
            o.RecoveryTimeout = _recovery;
            o.FallbackOnFailure = fallbackOnFailure;
            o.ShouldHandle = shouldHandle;
        });

    // ---- sync: Execute<T>(Func<T>, Func<Exception, T>) ----

    [Fact]
    public void Execute_Closed_ReturnsTheActionsResultWithoutRunningTheFallback()
    {
        var breaker = Create();
        int fallbacks = 0;

        int result = breaker.Execute(() => 1, _ => ++fallbacks);

        Assert.Equal(1, result);
        Assert.Equal(0, fallbacks);
        Assert.Equal(1, breaker.GetSummary().Successful);
    }

    [Fact]
    public void Execute_Open_RunsTheFallbackWithTheRejectionAndNotTheAction()
    {
        var breaker = Create();
        TestBreakers.Trip(breaker, 2);
        _time.Advance(TimeSpan.FromSeconds(10));
        int actions = 0;
        Exception? reason = null;

        string result = breaker.Execute(
            () =>
            {
                actions++;
                return "live";
            },
            ex =>
            {
                reason = ex;
                return "cached";
            });

        Assert.Equal("cached", result);
        Assert.Equal(0, actions);
        var rejection = Assert.IsType<CircuitOpenException>(reason);
        Assert.Equal("fb", rejection.CircuitName);
        Assert.Equal(CircuitState.Open, rejection.State);
        Assert.Equal(TimeSpan.FromSeconds(20), rejection.RetryAfter);
        Assert.Equal(1, breaker.GetSummary().Rejected);
    }

    [Fact]
    public void Execute_HalfOpenEverySlotTaken_FallbackGetsHalfOpenRejection()
    {
        var breaker = Create(failureThreshold: 1);
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);
        CircuitPermit probe = breaker.AcquirePermit();

        Exception? reason = null;
        int result = breaker.Execute(() => 1, ex => { reason = ex; return 2; });

        Assert.Equal(2, result);
        var rejection = Assert.IsType<CircuitOpenException>(reason);
        Assert.Equal(CircuitState.HalfOpen, rejection.State);
        Assert.Equal(TimeSpan.Zero, rejection.RetryAfter);
        probe.RecordIgnored();
    }

    [Fact]
    public void Execute_Isolated_FallbackGetsIsolatedRejection()
    {
        var breaker = Create();
        breaker.Isolate();

        Exception? reason = null;
        breaker.Execute(() => 1, ex => { reason = ex; return 2; });

        var rejection = Assert.IsType<CircuitOpenException>(reason);
        Assert.Equal(CircuitState.Isolated, rejection.State);
        Assert.Equal(TimeSpan.MaxValue, rejection.RetryAfter);
    }

    [Fact]
    public void Execute_FailureWithoutFallbackOnFailure_RethrowsAndSkipsTheFallback()
    {
        var breaker = Create(fallbackOnFailure: false);
        var failure = new TestFailureException();
        int fallbacks = 0;

        var thrown = Assert.Throws<TestFailureException>(() => breaker.Execute<int>(() => throw failure, _ => ++fallbacks));

        Assert.Same(failure, thrown);
        Assert.Equal(0, fallbacks);
        Assert.Equal(1, breaker.GetSummary().Failed);
    }

    [Fact]
    public void Execute_FailureWithFallbackOnFailure_FallbackGetsTheFailureAndItStillCounts()
    {
        var breaker = Create(fallbackOnFailure: true, failureThreshold: 2);
        var failure = new TestFailureException();
        var reasons = new List<Exception>();

        int first = breaker.Execute<int>(() => throw failure, ex => { reasons.Add(ex); return -1; });
        int second = breaker.Execute<int>(() => throw failure, ex => { reasons.Add(ex); return -2; });
        int third = breaker.Execute(() => 3, ex => { reasons.Add(ex); return -3; });

        Assert.Equal((-1, -2, -3), (first, second, third));
        Assert.Same(failure, reasons[0]);
        Assert.Same(failure, reasons[1]);
        Assert.IsType<CircuitOpenException>(reasons[2]); // the two failures opened it
        CircuitSummary summary = breaker.GetSummary();
        Assert.Equal(2, summary.Failed);
        Assert.Equal(1, summary.Rejected);
        Assert.Equal(CircuitState.Open, summary.State);
    }

    [Fact]
    public void Execute_IgnoredExceptionWithFallbackOnFailure_RethrowsAndSkipsTheFallback()
    {
        var breaker = Create(fallbackOnFailure: true, shouldHandle: TestBreakers.IgnoreNotHandled);
        var notHandled = new NotHandledException();
        int fallbacks = 0;

        var thrown = Assert.Throws<NotHandledException>(() => breaker.Execute<int>(() => throw notHandled, _ => ++fallbacks));

        Assert.Same(notHandled, thrown);
        Assert.Equal(0, fallbacks);
        Assert.Equal(1, breaker.GetSummary().Ignored);
    }

    [Fact]
    public void Execute_FallbackThrowsOnRejection_ExceptionReachesTheCallerUnchanged()
    {
        var breaker = Create();
        breaker.Isolate();
        var fallbackFailure = new InvalidOperationException("fallback broke");

        var thrown = Assert.Throws<InvalidOperationException>(() => breaker.Execute(() => 1, _ => throw fallbackFailure));

        Assert.Same(fallbackFailure, thrown);
    }

    [Fact]
    public void Execute_FallbackThrowsOnFailure_ExceptionReachesTheCallerUnchanged()
    {
        var breaker = Create(fallbackOnFailure: true);
        var fallbackFailure = new InvalidOperationException("fallback broke");

        var thrown = Assert.Throws<InvalidOperationException>(() => breaker.Execute<int>(() => throw new TestFailureException(), _ => throw fallbackFailure));

        Assert.Same(fallbackFailure, thrown);
        Assert.Equal(1, breaker.GetSummary().Failed); // the call's failure was still recorded once
        Assert.Equal(1, breaker.GetSummary().TotalCalls);
    }

    [Fact]
    public void Execute_FallbackRunsOutsideTheBreakersLock()
    {
        var breaker = Create();
        breaker.Isolate();

        // If the fallback ran under the breaker's lock, another thread could not take a summary meanwhile.
        bool otherThreadGotSummary = breaker.Execute(() => false, _ => SummaryFromAnotherThread(breaker));

        Assert.True(otherThreadGotSummary);
    }

    [Fact]
    public void Execute_ShouldHandleThrowsWithFallbackOverload_PredicateExceptionSurfacesLikeWithoutFallback()
    {
        // CircuitPermit.RecordException documents that a throwing ShouldHandle is a bug the user must see, and plain
        // Execute surfaces it; the fallback overloads must not silently swallow it and rethrow the call's exception.
        var predicateBug = new InvalidOperationException("predicate bug");
        var breaker = Create(fallbackOnFailure: true, shouldHandle: _ => throw predicateBug);

        var thrown = Record.Exception(() => breaker.Execute<int>(() => throw new TestFailureException(), _ => 0));

        Assert.Same(predicateBug, thrown);
        Assert.Equal(1, breaker.GetSummary().Failed);
    }

    // ---- async: ExecuteAsync<T>(action, Func<Exception, CancellationToken, ValueTask<T>>, ct) ----

    [Fact]
    public async Task ExecuteAsync_Closed_ReturnsTheActionsResultWithoutRunningTheFallback()
    {
        var breaker = Create();
        int fallbacks = 0;

        int result = await breaker.ExecuteAsync(
            async _ =>
            {
                await Task.Yield();
                return 1;
            },
            (_, _) => ValueTask.FromResult(++fallbacks),
            Ct);

        Assert.Equal(1, result);
        Assert.Equal(0, fallbacks);
        Assert.Equal(1, breaker.GetSummary().Successful);
    }

    [Fact]
    public async Task ExecuteAsync_Open_RunsTheFallbackWithTheRejectionAndTheCallersToken()
    {
        var breaker = Create();
        TestBreakers.Trip(breaker, 2);
        using var cts = new CancellationTokenSource();
        int actions = 0;
        Exception? reason = null;
        CancellationToken fallbackToken = default;

        string result = await breaker.ExecuteAsync(
            _ =>
            {
                actions++;
                return ValueTask.FromResult("live");
            },
            async (ex, ct) =>
            {
                reason = ex;
                fallbackToken = ct;
                await Task.Yield();
                return "cached";
            },
            cts.Token);

        Assert.Equal("cached", result);
        Assert.Equal(0, actions);
        Assert.Equal(cts.Token, fallbackToken);
        var rejection = Assert.IsType<CircuitOpenException>(reason);
        Assert.Equal(CircuitState.Open, rejection.State);
        Assert.Equal(_recovery, rejection.RetryAfter);
        Assert.Equal(1, breaker.GetSummary().Rejected);
    }

    [Fact]
    public async Task ExecuteAsync_FailureWithoutFallbackOnFailure_RethrowsAndSkipsTheFallback()
    {
        var breaker = Create(fallbackOnFailure: false);
        var failure = new TestFailureException();
        int fallbacks = 0;

        var thrown = await Assert.ThrowsAsync<TestFailureException>(async () => await breaker.ExecuteAsync<int>(
            async _ =>
            {
                await Task.Yield();
                throw failure;
            },
            (_, _) => ValueTask.FromResult(++fallbacks),
            Ct));

        Assert.Same(failure, thrown);
        Assert.Equal(0, fallbacks);
        Assert.Equal(1, breaker.GetSummary().Failed);
    }

    [Fact]
    public async Task ExecuteAsync_FailureWithFallbackOnFailure_FallbackGetsTheFailureAndItStillCounts()
    {
        var breaker = Create(fallbackOnFailure: true, failureThreshold: 1);
        var failure = new TestFailureException();
        Exception? reason = null;

        int result = await breaker.ExecuteAsync<int>(
            async _ =>
            {
                await Task.Yield();
                throw failure;
            },
            (ex, _) =>
            {
                reason = ex;
                return ValueTask.FromResult(-1);
            },
            Ct);

        Assert.Equal(-1, result);
        Assert.Same(failure, reason);
        Assert.Equal(1, breaker.GetSummary().Failed);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public async Task ExecuteAsync_CallerCancellationWithFallbackOnFailure_RethrowsIgnoredAndSkipsTheFallback()
    {
        var breaker = Create(fallbackOnFailure: true, failureThreshold: 1);
        using var cts = new CancellationTokenSource();
        var never = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        int fallbacks = 0;

        ValueTask<int> pending = breaker.ExecuteAsync(
            async ct => await never.Task.WaitAsync(ct),
            (_, _) => ValueTask.FromResult(++fallbacks),
            cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.AsTask());
        Assert.Equal(0, fallbacks);
        Assert.Equal(1, breaker.GetSummary().Ignored);
        Assert.Equal(0, breaker.GetSummary().Failed);
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public async Task ExecuteAsync_IgnoredExceptionWithFallbackOnFailure_RethrowsAndSkipsTheFallback()
    {
        var breaker = Create(fallbackOnFailure: true, shouldHandle: TestBreakers.IgnoreNotHandled);
        int fallbacks = 0;

        await Assert.ThrowsAsync<NotHandledException>(async () => await breaker.ExecuteAsync<int>(
            _ => throw new NotHandledException(),
            (_, _) => ValueTask.FromResult(++fallbacks),
            Ct));

        Assert.Equal(0, fallbacks);
        Assert.Equal(1, breaker.GetSummary().Ignored);
    }

    [Fact]
    public async Task ExecuteAsync_FallbackThrows_ExceptionReachesTheCallerUnchanged()
    {
        var breaker = Create(fallbackOnFailure: true);
        var onRejection = new InvalidOperationException("fallback broke on rejection");
        var onFailure = new InvalidOperationException("fallback broke on failure");

        var first = await Assert.ThrowsAsync<InvalidOperationException>(async () => await breaker.ExecuteAsync<int>(
            _ => throw new TestFailureException(),
            async (_, _) =>
            {
                await Task.Yield();
                throw onFailure;
            },
            Ct));
        breaker.Isolate();
        var second = await Assert.ThrowsAsync<InvalidOperationException>(async () => await breaker.ExecuteAsync<int>(
            _ => ValueTask.FromResult(1),
            (_, _) => throw onRejection,
            Ct));

        Assert.Same(onFailure, first);
        Assert.Same(onRejection, second);
    }

    [Fact]
    public async Task ExecuteAsync_FallbackRunsOutsideTheBreakersLock()
    {
        var breaker = Create();
        breaker.Isolate();

        bool otherThreadGotSummary = await breaker.ExecuteAsync(
            _ => ValueTask.FromResult(false),
            (_, _) => ValueTask.FromResult(SummaryFromAnotherThread(breaker)),
            Ct);

        Assert.True(otherThreadGotSummary);
    }

    [Fact]
    public async Task ExecuteAsync_ShouldHandleThrowsWithFallbackOverload_PredicateExceptionSurfaces()
    {
        var predicateBug = new InvalidOperationException("predicate bug");
        var breaker = Create(fallbackOnFailure: true, shouldHandle: _ => throw predicateBug);

        Exception? thrown = await Record.ExceptionAsync(async () => await breaker.ExecuteAsync<int>(
            _ => throw new TestFailureException(),
            (_, _) => ValueTask.FromResult(0),
            Ct));

        Assert.Same(predicateBug, thrown);
    }

    /// <summary>Takes a summary on another thread (which needs the breaker's lock) and reports whether it finished.</summary>
    private static bool SummaryFromAnotherThread(CircuitBreaker breaker)
    {
        using var done = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            _ = breaker.GetSummary();
            done.Set();
        })
        {
            IsBackground = true,
        };
        thread.Start();

        // A generous real-time bound only so that a deadlock fails the test instead of hanging it.
        bool finished = done.Wait(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        if (finished)
        {
            Eventually.Ended(thread, "the finished call's thread");
        }

        return finished;
    }
}
