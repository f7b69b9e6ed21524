using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Polly;
using Polly.Registry;
using Tripswitch.Polly;

namespace Tripswitch.Polly.Tests;

/// <summary>OnOpened / OnClosed / OnHalfOpened and TripswitchManualControl, as Polly's circuit breaker has them, mapped onto the circuit's own transitions, Isolate and Reset.</summary>
public sealed class CallbacksAndManualControlTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly ConcurrentQueue<(string Callback, CircuitTransition Transition)> _calls = new();

    private CircuitBreaker Breaker(string name = "upstream")
        => new(new CircuitBreakerOptions { Name = name, FailureThreshold = 2, SuccessThreshold = 1, RecoveryTimeout = TimeSpan.FromSeconds(30), TimeProvider = _time });

    private TripswitchStrategyOptions Recording(TripswitchStrategyOptions options)
    {
        options.OnOpened = t => Record("opened", t);
        options.OnClosed = t => Record("closed", t);
        options.OnHalfOpened = t => Record("half-opened", t);
        return options;
    }

    private ValueTask Record(string callback, CircuitTransition transition)
    {
        _calls.Enqueue((callback, transition));
        return ValueTask.CompletedTask;
    }

    private static void Fail(ResiliencePipeline pipeline)
        => Assert.Throws<InvalidOperationException>(() => pipeline.Execute(static () => throw new InvalidOperationException("upstream failed")));

    [Fact]
    public void Callbacks_FireOncePerTransition_WithTheCircuitsNameAndCause_EvenWithTwoPipelinesBuilt()
    {
        CircuitBreaker breaker = Breaker();
        ResiliencePipelineBuilder builder = new ResiliencePipelineBuilder().AddTripswitch(Recording(new TripswitchStrategyOptions { Breaker = breaker }));
        ResiliencePipeline pipeline = builder.Build();
        ResiliencePipeline second = builder.Build(); // shares the callbacks: still one call per transition

        Fail(pipeline);
        Fail(second);
        Assert.Throws<CircuitOpenException>(() => pipeline.Execute(static () => { }));
        _time.Advance(TimeSpan.FromSeconds(30));
        pipeline.Execute(static () => { }); // the probe: half-open, then closed

        Assert.Equal(["opened", "half-opened", "closed"], _calls.Select(c => c.Callback));
        Assert.All(_calls, c => Assert.Equal("upstream", c.Transition.CircuitName));
        CircuitTransition opened = _calls.First().Transition;
        Assert.Equal((CircuitState.Closed, CircuitState.Open), (opened.From, opened.To));
        Assert.Equal("upstream failed", Assert.IsType<InvalidOperationException>(opened.Cause).Message);
        Assert.Equal(CircuitState.HalfOpen, _calls.Last().Transition.From);
    }

    [Fact]
    public void Callbacks_RegistryStrategy_FireForTheCircuitsItRunsOnly()
    {
        var registry = new CircuitBreakerRegistry(new CircuitBreakerOptions { FailureThreshold = 2, TimeProvider = _time });
        ResiliencePipeline pipeline = new ResiliencePipelineBuilder()
            .AddTripswitch(Recording(new TripswitchStrategyOptions { Registry = registry, KeySelector = static _ => "a" }))
            .Build();

        registry.Fail("b", 2); // another circuit of the registry, never run by this strategy
        Fail(pipeline);
        Fail(pipeline);

        (string callback, CircuitTransition transition) = Assert.Single(_calls);
        Assert.Equal(("opened", "a", CircuitState.Open), (callback, transition.CircuitName, transition.To));
        Assert.Equal(CircuitState.Open, registry.Get("b").State);
    }

    [Fact]
    public void Callbacks_OneThrows_TheCircuitAndItsOtherHandlersCarryOn()
    {
        CircuitBreaker breaker = Breaker();
        int handled = 0;
        ResiliencePipeline pipeline = new ResiliencePipelineBuilder()
            .AddTripswitch(new TripswitchStrategyOptions { Breaker = breaker, OnOpened = static _ => throw new InvalidOperationException("callback bug") })
            .Build();
        breaker.StateChanged += (_, _) => handled++; // subscribed after the strategy's handler

        Fail(pipeline);
        Fail(pipeline);

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(1, handled);
    }

    [Fact]
    public async Task Callbacks_StopWhenThePipelineIsDisposed()
    {
        CircuitBreaker breaker = Breaker();
        var pipelines = new ResiliencePipelineRegistry<string>();
        ResiliencePipeline pipeline = pipelines.GetOrAddPipeline("p", b => b.AddTripswitch(Recording(new TripswitchStrategyOptions { Breaker = breaker })));
        Fail(pipeline);
        Fail(pipeline);
        Assert.Single(_calls); // subscribed while the pipeline lives

        await pipelines.DisposeAsync(); // Polly disposes the pipeline's strategies
        breaker.Reset();
        Calls.Fail(breaker, 2);

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Single(_calls);
    }

    [Fact]
    public async Task ManualControl_IsolatesAndClosesTheStrategysCircuit()
    {
        CircuitBreaker breaker = Breaker();
        var control = new TripswitchManualControl();
        ResiliencePipeline pipeline = new ResiliencePipelineBuilder()
            .AddTripswitch(Recording(new TripswitchStrategyOptions { Breaker = breaker, ManualControl = control }))
            .Build();
        int runs = 0;

        await control.IsolateAsync(TestContext.Current.CancellationToken);

        Assert.True(control.IsIsolated);
        Assert.Equal(CircuitState.Isolated, breaker.State);
        CircuitOpenException rejected = Assert.Throws<CircuitOpenException>(() => pipeline.Execute(() => runs++));
        Assert.Equal(CircuitState.Isolated, rejected.State);
        Assert.Equal(0, runs);

        await control.CloseAsync(TestContext.Current.CancellationToken);

        Assert.False(control.IsIsolated);
        Assert.Equal(CircuitState.Closed, breaker.State);
        pipeline.Execute(() => runs++);
        Assert.Equal(1, runs);
        Assert.Equal([("opened", CircuitState.Isolated), ("closed", CircuitState.Closed)], _calls.Select(c => (c.Callback, c.Transition.To)));
    }

    [Fact]
    public async Task ManualControl_IsolatedBeforeARegistryCircuitsFirstExecution_IsolatesItThen()
    {
        var registry = new CircuitBreakerRegistry(new CircuitBreakerOptions { TimeProvider = _time });
        var control = new TripswitchManualControl();
        ResiliencePipeline pipeline = new ResiliencePipelineBuilder()
            .AddTripswitch(new TripswitchStrategyOptions { Registry = registry, KeySelector = static _ => "a", ManualControl = control })
            .Build();
        int runs = 0;
        await control.IsolateAsync(TestContext.Current.CancellationToken);

        Assert.Throws<CircuitOpenException>(() => pipeline.Execute(() => runs++));
        Assert.Equal(CircuitState.Isolated, registry.Get("a").State);
        Assert.Equal(CircuitState.Closed, registry.Get("b").State); // not a circuit of the strategy

        await control.CloseAsync(TestContext.Current.CancellationToken);
        pipeline.Execute(() => runs++);

        Assert.Equal((1, CircuitState.Closed), (runs, registry.Get("a").State));
    }

    [Fact]
    public async Task ManualControl_CancelledToken_ThrowsBeforeIsolating()
    {
        CircuitBreaker breaker = Breaker();
        var control = new TripswitchManualControl();
        _ = new ResiliencePipelineBuilder().AddTripswitch(new TripswitchStrategyOptions { Breaker = breaker, ManualControl = control }).Build();

        await Assert.ThrowsAsync<OperationCanceledException>(() => control.IsolateAsync(new CancellationToken(canceled: true)));

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.False(control.IsIsolated);
    }
}
