using System.Reflection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests;

/// <summary>The permit's one classifier, and the same classification from every Execute overload.</summary>
public class CallOutcomeTests
{
    private readonly FakeTimeProvider _time = new();

    private CircuitBreaker Create(Func<Exception, bool>? shouldHandle = null, bool fallbackOnFailure = false) => TestBreakers.Create(_time, o =>
    {
        o.FailureThreshold = 1;
        o.ShouldHandle = shouldHandle ?? TestBreakers.IgnoreNotHandled;
        o.FallbackOnFailure = fallbackOnFailure;
    });

    [Fact]
    public void RecordOutcome_NoException_IsASuccess()
    {
        CircuitBreaker breaker = Create();

        Assert.Equal(CallOutcome.Success, breaker.AcquirePermit().RecordOutcome(null, TestContext.Current.CancellationToken));
        Assert.Equal(1, breaker.GetSummary().Successful);
    }

    [Fact]
    public void RecordOutcome_HandledException_IsAFailure()
    {
        CircuitBreaker breaker = Create();

        Assert.Equal(CallOutcome.Failure, breaker.AcquirePermit().RecordOutcome(new TestFailureException(), TestContext.Current.CancellationToken));
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void RecordOutcome_ExceptionShouldHandleRejects_IsIgnored()
    {
        CircuitBreaker breaker = Create();

        Assert.Equal(CallOutcome.Ignored, breaker.AcquirePermit().RecordOutcome(new NotHandledException(), TestContext.Current.CancellationToken));
        Assert.Equal(1, breaker.GetSummary().Ignored);
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void RecordOutcome_CancellationOfTheCallersToken_IsCallerCancelled()
    {
        CircuitBreaker breaker = Create();
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.Equal(CallOutcome.CallerCancelled, breaker.AcquirePermit().RecordOutcome(new OperationCanceledException(cts.Token), cts.Token));
        Assert.Equal(1, breaker.GetSummary().Ignored);
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public void RecordOutcome_CancellationTheCallerDidNotAskFor_IsAFailure()
    {
        CircuitBreaker breaker = Create();

        Assert.Equal(CallOutcome.Failure, breaker.AcquirePermit().RecordOutcome(new TaskCanceledException(), TestContext.Current.CancellationToken));
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void RecordOutcome_CallerCancelledAfterTheSlowCallThreshold_IsCallerCancelledButCountsASlowFailure()
    {
        CircuitBreaker breaker = TestBreakers.Create(_time, o =>
        {
            o.FailureThreshold = 1;
            o.SlowCallThreshold = TimeSpan.FromSeconds(1);
        });
        using var cts = new CancellationTokenSource();
        CircuitPermit permit = breaker.AcquirePermit();
        _time.Advance(TimeSpan.FromSeconds(2));
        cts.Cancel();

        Assert.Equal(CallOutcome.CallerCancelled, permit.RecordOutcome(new OperationCanceledException(cts.Token), cts.Token));
        Assert.Equal(1, breaker.GetSummary().Failed);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void RecordOutcome_ShouldHandleThrows_ThrowsThePredicatesExceptionAndCountsAFailure()
    {
        CircuitBreaker breaker = Create(_ => throw new PredicateBugException());

        Assert.Throws<PredicateBugException>(() => breaker.AcquirePermit().RecordOutcome(new TestFailureException(), TestContext.Current.CancellationToken));
        Assert.Equal(1, breaker.GetSummary().Failed);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    public static TheoryData<string> Overloads() => new(ExecuteOverloads.Keys);

    /// <summary>Each Execute overload, running a call that throws <see cref="TestFailureException"/>.</summary>
    private static readonly Dictionary<string, Func<CircuitBreaker, Task>> ExecuteOverloads = new()
    {
        ["Execute<T>"] = b => Task.FromResult(b.Execute<int>(() => throw new TestFailureException())),
        ["Execute"] = b =>
        {
            b.Execute(() => throw new TestFailureException());
            return Task.CompletedTask;
        },
        ["Execute<T> with fallback"] = b => Task.FromResult(b.Execute<int>(() => throw new TestFailureException(), _ => 42)),
        ["ExecuteAsync<T> ValueTask"] = async b => await b.ExecuteAsync<int>(async _ =>
        {
            await Task.Yield();
            throw new TestFailureException();
        }),
        ["ExecuteAsync ValueTask"] = async b => await b.ExecuteAsync(async _ =>
        {
            await Task.Yield();
            throw new TestFailureException();
        }),
        ["ExecuteAsync<T> Task"] = b => b.ExecuteAsync<int>(_ => Task.FromException<int>(new TestFailureException())),
        ["ExecuteAsync Task"] = b => b.ExecuteAsync(_ => Task.FromException(new TestFailureException())),
        ["ExecuteAsync<T> with fallback"] = async b => await b.ExecuteAsync<int>(
            async _ =>
            {
                await Task.Yield();
                throw new TestFailureException();
            },
            (_, _) => ValueTask.FromResult(42)),
    };

    [Theory]
    [MemberData(nameof(Overloads))]
    public async Task Execute_EveryOverload_ShouldHandleThrows_SurfacesThePredicatesExceptionAndCountsAFailure(string overload)
    {
        CircuitBreaker breaker = Create(_ => throw new PredicateBugException(), fallbackOnFailure: true);

        await Assert.ThrowsAsync<PredicateBugException>(() => ExecuteOverloads[overload](breaker));

        Assert.Equal(1, breaker.GetSummary().Failed);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void ExecuteOverloads_CoverEveryPublicExecuteOfTheBreaker()
    {
        int count = typeof(CircuitBreaker).GetMethods(BindingFlags.Public | BindingFlags.Instance).Count(m => m.Name.StartsWith("Execute", StringComparison.Ordinal));

        Assert.Equal(count, ExecuteOverloads.Count);
    }

    [Fact]
    public void Registry_HasEveryExecuteOverloadOfTheBreaker_WithTheKeyFirst()
    {
        static IEnumerable<string> Signatures(Type type, bool dropKey) => type.GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m.Name.StartsWith("Execute", StringComparison.Ordinal))
            .Select(m =>
            {
                ParameterInfo[] parameters = m.GetParameters();
                if (dropKey)
                {
                    Assert.Equal(typeof(string), parameters[0].ParameterType);
                    Assert.Equal("key", parameters[0].Name);
                }

                return $"{m.ReturnType.Name} {m.Name}({string.Join(", ", parameters.Skip(dropKey ? 1 : 0).Select(p => p.ParameterType.Name))})";
            })
            .Order(StringComparer.Ordinal);

        Assert.Equal(Signatures(typeof(CircuitBreaker), dropKey: false), Signatures(typeof(CircuitBreakerRegistry), dropKey: true));
    }

    [Fact]
    public async Task Registry_TaskOverloads_RunThroughTheKeysBreaker()
    {
        var registry = new CircuitBreakerRegistry(new CircuitBreakerOptions { TimeProvider = _time, FailureThreshold = 1 });

        Assert.Equal(7, await registry.ExecuteAsync("a", _ => Task.FromResult(7), TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<TestFailureException>(() => registry.ExecuteAsync("b", _ => Task.FromException(new TestFailureException()), TestContext.Current.CancellationToken));

        Assert.Equal(1, registry.Get("a").GetSummary().Successful);
        Assert.Equal(CircuitState.Open, registry.Get("b").State);
    }

    [Fact]
    public void Registry_GetSummaries_SummarizesEveryBreakerByKey()
    {
        var registry = new CircuitBreakerRegistry(new CircuitBreakerOptions { TimeProvider = _time, FailureThreshold = 1 });
        registry.Execute("ok", () => 1);
        Assert.Throws<TestFailureException>(() => registry.Execute("down", () => throw new TestFailureException()));

        IReadOnlyDictionary<string, CircuitSummary> summaries = registry.GetSummaries();

        Assert.Equal(["down", "ok"], summaries.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(CircuitState.Open, summaries["down"].State);
        Assert.Equal(1, summaries["down"].Failed);
        Assert.Equal(1, summaries["ok"].Successful);
    }

    private sealed class PredicateBugException : Exception
    {
        public PredicateBugException()
            : base("ShouldHandle has a bug")
        {
        }
    }
}
