using System.Threading.Tasks.Sources;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests;

public class CircuitBreakerAsyncTests
{
    private static readonly TimeSpan _recovery = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _time = new();

    /// <summary>The four plain asynchronous overloads.</summary>
    public enum Overload
    {
        ValueTaskOfT,
        ValueTask,
        TaskOfT,
        Task,
    }

    public static TheoryData<Overload> Overloads => [Overload.ValueTaskOfT, Overload.ValueTask, Overload.TaskOfT, Overload.Task];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private CircuitBreaker Create(int failureThreshold = 3, int successThreshold = 1, int halfOpenMaxCalls = 1, Func<Exception, bool>? shouldHandle = null)
        => TestBreakers.Create(_time, o =>
        {
            o.Name = "async";
            o.FailureThreshold = failureThreshold;
            o.SuccessThreshold = successThreshold;
            o.HalfOpenMaxCalls = halfOpenMaxCalls;
            o.RecoveryTimeout = _recovery;
            o.ShouldHandle = shouldHandle;
        });

    /// <summary>
    /// Calls the chosen overload with <paramref name="body"/> as the call. Returns the task exactly as the overload
    /// returned it (a ValueTask is converted only after inspection by the caller's awaiting).
    /// </summary>
    private static Task Call(CircuitBreaker breaker, Overload overload, Func<CancellationToken, Task> body, CancellationToken cancellationToken) => overload switch
    {
        Overload.ValueTaskOfT => breaker.ExecuteAsync(
            async (CancellationToken ct) =>
            {
                await body(ct);
                return 1;
            },
            cancellationToken).AsTask(),
        Overload.ValueTask => breaker.ExecuteAsync((CancellationToken ct) => new ValueTask(body(ct)), cancellationToken).AsTask(),
        Overload.TaskOfT => breaker.ExecuteAsync(
            (Func<CancellationToken, Task<int>>)(async ct =>
            {
                await body(ct);
                return 1;
            }),
            cancellationToken),
        _ => breaker.ExecuteAsync(body, cancellationToken),
    };

    [Fact]
    public async Task ExecuteAsync_AsyncLambdas_ResolveWithoutCasts()
    {
        // Async lambdas convert to both the ValueTask and the Task overloads; they must compile without casts.
        var breaker = Create();
        int a = await breaker.ExecuteAsync(
            async ct =>
            {
                await Task.Yield();
                return 1;
            },
            Ct);
        int b = await breaker.ExecuteAsync(ct => Task.FromResult(2), Ct);
        int c = await breaker.ExecuteAsync(ct => ValueTask.FromResult(3), Ct);
        await breaker.ExecuteAsync(async ct => await Task.Yield(), Ct);
        await breaker.ExecuteAsync(ct => Task.CompletedTask, Ct);

        Assert.Equal(6, a + b + c);
        Assert.Equal(5, breaker.GetSummary().Successful);
    }

    [Fact]
    public async Task ExecuteAsync_ValueTaskOfT_ReturnsTheResultForSyncAndAsyncCompletion()
    {
        var breaker = Create();

        int sync = await breaker.ExecuteAsync(_ => ValueTask.FromResult(4), Ct);
        int async = await breaker.ExecuteAsync(
            async _ =>
            {
                await Task.Yield();
                return 5;
            },
            Ct);

        Assert.Equal(9, sync + async);
        Assert.Equal(2, breaker.GetSummary().Successful);
    }

    [Fact]
    public async Task ExecuteAsync_TaskOfT_ReturnsTheResult()
    {
        var breaker = Create();

        Func<CancellationToken, Task<int>> call = async _ =>
        {
            await Task.Yield();
            return 6;
        };

        Task<int> pending = breaker.ExecuteAsync(call, Ct);
        int result = await pending;

        Assert.Equal(6, result);
        Assert.Equal(1, breaker.GetSummary().Successful);
    }

    [Theory]
    [MemberData(nameof(Overloads))]
    public async Task ExecuteAsync_Success_RunsTheCallOnceWithTheCallersToken(Overload overload)
    {
        var breaker = Create();
        using var cts = new CancellationTokenSource();
        CancellationToken seen = default;
        int runs = 0;

        await Call(
            breaker,
            overload,
            async ct =>
            {
                seen = ct;
                runs++;
                await Task.Yield();
            },
            cts.Token);

        Assert.Equal(1, runs);
        Assert.Equal(cts.Token, seen);
        CircuitSummary summary = breaker.GetSummary();
        Assert.Equal(1, summary.Successful);
        Assert.Equal(1, summary.TotalCalls);
    }

    [Theory]
    [MemberData(nameof(Overloads))]
    public async Task ExecuteAsync_Failures_PropagateUnchangedAndOpenAtThreshold(Overload overload)
    {
        var breaker = Create(failureThreshold: 2);
        var failure = new TestFailureException();

        for (int i = 0; i < 2; i++)
        {
            var thrown = await Assert.ThrowsAsync<TestFailureException>(() => Call(
                breaker,
                overload,
                async _ =>
                {
                    await Task.Yield();
                    throw failure;
                },
                Ct));
            Assert.Same(failure, thrown);
        }

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(2, breaker.GetSummary().Failed);
        Assert.Equal(2, breaker.GetSummary().ConsecutiveFailures);
    }

    [Theory]
    [MemberData(nameof(Overloads))]
    public async Task ExecuteAsync_SuccessAfterFailures_ResetsTheConsecutiveCount(Overload overload)
    {
        var breaker = Create(failureThreshold: 2);
        await Assert.ThrowsAsync<TestFailureException>(() => Call(breaker, overload, _ => Task.FromException(new TestFailureException()), Ct));

        await Call(breaker, overload, _ => Task.CompletedTask, Ct);

        Assert.Equal(0, breaker.GetSummary().ConsecutiveFailures);
        await Assert.ThrowsAsync<TestFailureException>(() => Call(breaker, overload, _ => Task.FromException(new TestFailureException()), Ct));
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public async Task ExecuteAsync_Rejected_ReturnsFaultedValueTaskOfTWithoutInvokingTheCall()
    {
        var breaker = Create(failureThreshold: 1);
        TestBreakers.Trip(breaker, 1);
        int invoked = 0;

        ValueTask<int> pending = breaker.ExecuteAsync(_ => ValueTask.FromResult(++invoked), Ct);

        Assert.True(pending.IsFaulted);
        var ex = await Assert.ThrowsAsync<CircuitOpenException>(() => pending.AsTask());
        Assert.Equal(0, invoked);
        Assert.Equal(CircuitState.Open, ex.State);
        Assert.Equal(_recovery, ex.RetryAfter);
        Assert.Equal("async", ex.CircuitName);
        Assert.Equal(1, breaker.GetSummary().Rejected);
    }

    [Fact]
    public async Task ExecuteAsync_Rejected_ReturnsFaultedValueTaskWithoutInvokingTheCall()
    {
        var breaker = Create(failureThreshold: 1);
        TestBreakers.Trip(breaker, 1);
        int invoked = 0;

        ValueTask pending = breaker.ExecuteAsync(
            _ =>
            {
                invoked++;
                return ValueTask.CompletedTask;
            },
            Ct);

        Assert.True(pending.IsFaulted);
        await Assert.ThrowsAsync<CircuitOpenException>(() => pending.AsTask());
        Assert.Equal(0, invoked);
    }

    [Fact]
    public async Task ExecuteAsync_Rejected_ReturnsFaultedTaskOfTWithoutInvokingTheCall()
    {
        var breaker = Create(failureThreshold: 1);
        TestBreakers.Trip(breaker, 1);
        int invoked = 0;

        Task<int> pending = breaker.ExecuteAsync<int>(_ => Task.FromResult(++invoked), Ct);

        Assert.True(pending.IsFaulted);
        await Assert.ThrowsAsync<CircuitOpenException>(() => pending);
        Assert.Equal(0, invoked);
    }

    [Fact]
    public async Task ExecuteAsync_Rejected_ReturnsFaultedTaskWithoutInvokingTheCall()
    {
        var breaker = Create(failureThreshold: 1);
        TestBreakers.Trip(breaker, 1);
        int invoked = 0;

        Task pending = breaker.ExecuteAsync(
            (CancellationToken _) =>
            {
                invoked++;
                return Task.CompletedTask;
            },
            Ct);

        Assert.True(pending.IsFaulted);
        await Assert.ThrowsAsync<CircuitOpenException>(() => pending);
        Assert.Equal(0, invoked);
    }

    [Theory]
    [MemberData(nameof(Overloads))]
    public async Task ExecuteAsync_HalfOpenEverySlotTaken_RejectsWithHalfOpenAndZeroRetryAfter(Overload overload)
    {
        var breaker = Create(failureThreshold: 1);
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task probe = Call(breaker, overload, _ => gate.Task, Ct);

        var ex = await Assert.ThrowsAsync<CircuitOpenException>(() => Call(breaker, overload, _ => Task.CompletedTask, Ct));

        Assert.Equal(CircuitState.HalfOpen, ex.State);
        Assert.Equal(TimeSpan.Zero, ex.RetryAfter);
        gate.SetResult();
        await probe;
        Assert.Equal(CircuitState.Closed, breaker.State); // SuccessThreshold 1
    }

    [Theory]
    [MemberData(nameof(Overloads))]
    public async Task ExecuteAsync_FullCycle_TripsProbesAndCloses(Overload overload)
    {
        var breaker = Create(failureThreshold: 2, successThreshold: 2);
        var recorder = new TransitionRecorder(breaker);

        for (int i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<TestFailureException>(() => Call(breaker, overload, _ => Task.FromException(new TestFailureException()), Ct));
        }

        await Assert.ThrowsAsync<CircuitOpenException>(() => Call(breaker, overload, _ => Task.CompletedTask, Ct));
        _time.Advance(_recovery);
        await Assert.ThrowsAsync<TestFailureException>(() => Call(breaker, overload, _ => Task.FromException(new TestFailureException()), Ct));
        Assert.Equal(CircuitState.Open, breaker.State);
        _time.Advance(_recovery);
        await Call(breaker, overload, _ => Task.CompletedTask, Ct);
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        await Call(breaker, overload, _ => Task.CompletedTask, Ct);
        Assert.Equal(CircuitState.Closed, breaker.State);

        Assert.Equal(
            [
                (CircuitState.Closed, CircuitState.Open),
                (CircuitState.Open, CircuitState.HalfOpen),
                (CircuitState.HalfOpen, CircuitState.Open),
                (CircuitState.Open, CircuitState.HalfOpen),
                (CircuitState.HalfOpen, CircuitState.Closed),
            ],
            recorder.Pairs);
    }

    [Theory]
    [MemberData(nameof(Overloads))]
    public async Task ExecuteAsync_CallerCancelsDuringTheCall_IsIgnoredNotAFailure(Overload overload)
    {
        var breaker = Create(failureThreshold: 1);
        using var cts = new CancellationTokenSource();
        var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task call = Call(breaker, overload, ct => never.Task.WaitAsync(ct), cts.Token);
        Assert.Equal(0, breaker.GetSummary().TotalCalls); // in flight: not counted yet
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        CircuitSummary summary = breaker.GetSummary();
        Assert.Equal(1, summary.Ignored);
        Assert.Equal(0, summary.Failed);
        Assert.Equal(0, summary.Successful);
        Assert.Equal(CircuitState.Closed, summary.State); // FailureThreshold 1 would have opened it
    }

    [Theory]
    [MemberData(nameof(Overloads))]
    public async Task ExecuteAsync_CallerTokenAlreadyCancelledAndCallThrowsSynchronously_IsIgnored(Overload overload)
    {
        var breaker = Create(failureThreshold: 1);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Call(
            breaker,
            overload,
            ct =>
            {
                ct.ThrowIfCancellationRequested();
                return Task.CompletedTask;
            },
            cts.Token));

        Assert.Equal(1, breaker.GetSummary().Ignored);
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Theory]
    [MemberData(nameof(Overloads))]
    public async Task ExecuteAsync_OperationCanceledWhileCallerTokenNotCancelled_IsAFailure(Overload overload)
    {
        // E.g. an HttpClient timeout: a TaskCanceledException the caller did not ask for.
        var breaker = Create(failureThreshold: 1);
        using var callerCts = new CancellationTokenSource();
        using var timeoutCts = new CancellationTokenSource();
        await timeoutCts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Call(
            breaker,
            overload,
            async _ =>
            {
                await Task.Yield();
                throw new TaskCanceledException("timeout", null, timeoutCts.Token);
            },
            callerCts.Token));

        Assert.Equal(1, breaker.GetSummary().Failed);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Theory]
    [MemberData(nameof(Overloads))]
    public async Task ExecuteAsync_CallerTokenCancelledButCallFailsWithOtherException_IsAFailure(Overload overload)
    {
        var breaker = Create(failureThreshold: 1);
        using var cts = new CancellationTokenSource();

        await Assert.ThrowsAsync<TestFailureException>(() => Call(
            breaker,
            overload,
            async _ =>
            {
                await cts.CancelAsync();
                throw new TestFailureException();
            },
            cts.Token));

        Assert.Equal(1, breaker.GetSummary().Failed);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Theory]
    [MemberData(nameof(Overloads))]
    public async Task ExecuteAsync_CallerCancelsAHalfOpenProbe_FreesTheSlotWithoutOutcome(Overload overload)
    {
        var breaker = Create(failureThreshold: 1, successThreshold: 1);
        TestBreakers.HalfOpen(breaker, _time, 1, _recovery);
        using var cts = new CancellationTokenSource();
        var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task probe = Call(breaker, overload, ct => never.Task.WaitAsync(ct), cts.Token);
        Assert.False(breaker.TryAcquirePermit(out _, out _)); // the only slot is taken

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => probe);

        Assert.Equal(CircuitState.HalfOpen, breaker.State); // neither closed nor reopened
        Assert.True(breaker.TryAcquirePermit(out CircuitPermit next, out _)); // slot freed
        Assert.True(next.IsProbe);
        next.RecordSuccess();
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Theory]
    [MemberData(nameof(Overloads))]
    public async Task ExecuteAsync_ShouldHandleFalse_PassesThroughAsIgnored(Overload overload)
    {
        var breaker = Create(failureThreshold: 1, shouldHandle: TestBreakers.IgnoreNotHandled);
        var notHandled = new NotHandledException();

        var thrown = await Assert.ThrowsAsync<NotHandledException>(() => Call(
            breaker,
            overload,
            async _ =>
            {
                await Task.Yield();
                throw notHandled;
            },
            Ct));

        Assert.Same(notHandled, thrown);
        Assert.Equal(1, breaker.GetSummary().Ignored);
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public async Task ExecuteAsync_ValueTaskOfTCallThrowsSynchronously_ReturnsFaultedTaskAndCountsFailure()
    {
        var breaker = Create(failureThreshold: 1);
        var failure = new TestFailureException();
        Func<CancellationToken, ValueTask<int>> call = _ => throw failure;

        ValueTask<int> pending = breaker.ExecuteAsync(call, Ct);

        Assert.True(pending.IsFaulted);
        Assert.Same(failure, await Assert.ThrowsAsync<TestFailureException>(() => pending.AsTask()));
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public async Task ExecuteAsync_ValueTaskCallThrowsSynchronously_ReturnsFaultedTaskAndCountsFailure()
    {
        var breaker = Create(failureThreshold: 1);
        Func<CancellationToken, ValueTask> call = _ => throw new TestFailureException();

        ValueTask pending = breaker.ExecuteAsync(call, Ct);

        Assert.True(pending.IsFaulted);
        await Assert.ThrowsAsync<TestFailureException>(() => pending.AsTask());
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public async Task ExecuteAsync_TaskCallThrowsSynchronously_ReturnsFaultedTaskAndCountsFailure()
    {
        var breaker = Create(failureThreshold: 1);
        Func<CancellationToken, Task<int>> typed = _ => throw new TestFailureException();
        Func<CancellationToken, Task> untyped = _ => throw new TestFailureException();

        Task<int> first = breaker.ExecuteAsync(typed, Ct);
        Assert.True(first.IsFaulted);
        await Assert.ThrowsAsync<TestFailureException>(() => first);
        breaker.Reset();
        Task second = breaker.ExecuteAsync(untyped, Ct);
        Assert.True(second.IsFaulted);
        await Assert.ThrowsAsync<TestFailureException>(() => second);

        Assert.Equal(2, breaker.GetSummary().Failed);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public async Task ExecuteAsync_Isolated_ReturnsFaultedTaskWithMaxRetryAfter()
    {
        var breaker = Create();
        breaker.Isolate();
        int invoked = 0;

        ValueTask<int> pending = breaker.ExecuteAsync(_ => ValueTask.FromResult(++invoked), Ct);

        Assert.True(pending.IsFaulted);
        var ex = await Assert.ThrowsAsync<CircuitOpenException>(() => pending.AsTask());
        Assert.Equal(CircuitState.Isolated, ex.State);
        Assert.Equal(TimeSpan.MaxValue, ex.RetryAfter);
        Assert.Equal(0, invoked);
    }

    [Fact]
    public async Task ExecuteAsync_ValueTaskFromACompletedSource_ConsumesItsResultExactlyOnce()
    {
        // A ValueTask backed by an IValueTaskSource (pooled sources, e.g. in sockets and pipelines) must have its
        // result read exactly once: that is how the source learns it may be reused.
        var breaker = Create();
        var source = new CompletedValueTaskSource();

        await breaker.ExecuteAsync(_ => new ValueTask(source, 0), Ct);
        int plain = source.GetResultCalls;
        var typedSource = new CompletedValueTaskSource();
        int value = await breaker.ExecuteAsync(_ => new ValueTask<int>(typedSource, 0), Ct);

        Assert.Equal(42, value);
        Assert.Equal(1, typedSource.GetResultCalls);
        Assert.Equal(1, plain);
        Assert.Equal(2, breaker.GetSummary().Successful);
    }

    [Fact]
    public async Task ExecuteAsync_InFlightCall_IsNotCountedUntilItCompletes()
    {
        var breaker = Create();
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);

        ValueTask<int> pending = breaker.ExecuteAsync(_ => new ValueTask<int>(gate.Task), Ct);
        Assert.False(pending.IsCompleted);
        Assert.Equal(0, breaker.GetSummary().TotalCalls);

        gate.SetResult(8);

        Assert.Equal(8, await pending);
        Assert.Equal(1, breaker.GetSummary().Successful);
        Assert.Equal(1, breaker.GetSummary().TotalCalls);
    }

    [Fact]
    public async Task ExecuteAsync_NullAction_ThrowsArgumentNullException()
    {
        var breaker = Create();

        // Argument errors are thrown synchronously, before any task exists.
        Assert.Throws<ArgumentNullException>(() => { _ = breaker.ExecuteAsync((Func<CancellationToken, ValueTask<int>>)null!, Ct).AsTask(); });
        Assert.Throws<ArgumentNullException>(() => { _ = breaker.ExecuteAsync((Func<CancellationToken, ValueTask>)null!, Ct).AsTask(); });
        Assert.Throws<ArgumentNullException>(() => { _ = breaker.ExecuteAsync((Func<CancellationToken, Task<int>>)null!, Ct); });
        Assert.Throws<ArgumentNullException>(() => { _ = breaker.ExecuteAsync((Func<CancellationToken, Task>)null!, Ct); });
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await breaker.ExecuteAsync(null!, (_, _) => ValueTask.FromResult(0), Ct));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await breaker.ExecuteAsync(_ => ValueTask.FromResult(0), null!, Ct));
        Assert.Equal(0, breaker.GetSummary().TotalCalls);
    }

    /// <summary>An already-completed <see cref="IValueTaskSource"/> that counts how often its result is read.</summary>
    private sealed class CompletedValueTaskSource : IValueTaskSource, IValueTaskSource<int>
    {
        public int GetResultCalls { get; private set; }

        public ValueTaskSourceStatus GetStatus(short token) => ValueTaskSourceStatus.Succeeded;

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
            => continuation(state);

        void IValueTaskSource.GetResult(short token) => GetResultCalls++;

        int IValueTaskSource<int>.GetResult(short token)
        {
            GetResultCalls++;
            return 42;
        }
    }
}
