using System.Runtime.CompilerServices;

namespace Tripswitch.Polly;

/// <summary>
/// The circuits of one <c>AddTripswitch</c> call, handed to its <see cref="TripswitchStrategyOptions{TResult}.OnOpened"/>,
/// <c>OnClosed</c>, <c>OnHalfOpened</c> callbacks and its <see cref="TripswitchManualControl"/>: shared by every pipeline
/// built from that call (so a transition calls each callback once however many pipelines were built), subscribed while
/// at least one of those pipelines is alive.
/// </summary>
/// <remarks>
/// Invariant: a circuit is in <see cref="_attached"/> exactly when this object is subscribed to its
/// <see cref="CircuitBreaker.StateChanged"/> (if it has callbacks); both change under <see cref="_sync"/>, which never
/// runs user code (subscribing only combines delegates; the callbacks and the manual control's isolation run outside it).
/// </remarks>
internal sealed class StrategyCircuits
{
    private static readonly object s_attached = new();
    private readonly CircuitBreaker? _breaker;
    private readonly Func<CircuitTransition, ValueTask>? _onOpened;
    private readonly Func<CircuitTransition, ValueTask>? _onClosed;
    private readonly Func<CircuitTransition, ValueTask>? _onHalfOpened;
    private readonly TripswitchManualControl? _manualControl;
    private readonly ConditionalWeakTable<CircuitBreaker, object> _attached = new(); // weak: an evicted circuit isn't kept alive
    private readonly Lock _sync = new();
    private int _pipelines;

    private StrategyCircuits(CircuitBreaker? breaker, Func<CircuitTransition, ValueTask>? onOpened, Func<CircuitTransition, ValueTask>? onClosed, Func<CircuitTransition, ValueTask>? onHalfOpened, TripswitchManualControl? manualControl)
    {
        _breaker = breaker;
        _onOpened = onOpened;
        _onClosed = onClosed;
        _onHalfOpened = onHalfOpened;
        _manualControl = manualControl;
    }

    /// <summary>The circuits of these options, or <see langword="null"/> when they have no callback and no manual control (nothing to hand over).</summary>
    public static StrategyCircuits? For<TResult>(TripswitchStrategyOptions<TResult> options)
        => options.OnOpened is null && options.OnClosed is null && options.OnHalfOpened is null && options.ManualControl is null
            ? null
            : new StrategyCircuits(options.Breaker, options.OnOpened, options.OnClosed, options.OnHalfOpened, options.ManualControl);

    private bool HasCallbacks => _onOpened is not null || _onClosed is not null || _onHalfOpened is not null;

    /// <summary>A pipeline was built: the options' <see cref="TripswitchStrategyOptions{TResult}.Breaker"/>, if any, is handed over now.</summary>
    public void PipelineBuilt()
    {
        lock (_sync)
        {
            _pipelines++;
        }

        if (_breaker is not null)
        {
            Attach(_breaker);
        }
    }

    /// <summary>A pipeline was disposed: with the last one, every subscription ends.</summary>
    public void PipelineDisposed()
    {
        lock (_sync)
        {
            if (--_pipelines > 0)
            {
                return;
            }

            foreach (KeyValuePair<CircuitBreaker, object> entry in _attached)
            {
                entry.Key.StateChanged -= OnStateChanged;
            }

            _attached.Clear();
        }
    }

    /// <summary>Hands a circuit over, once: subscribes the callbacks and gives it to the manual control.</summary>
    public void Attach(CircuitBreaker circuit)
    {
        if (_attached.TryGetValue(circuit, out _))
        {
            return; // the common case, without the lock
        }

        lock (_sync)
        {
            if (_pipelines == 0 || !_attached.TryAdd(circuit, s_attached))
            {
                return;
            }

            if (HasCallbacks)
            {
                circuit.StateChanged += OnStateChanged;
            }
        }

        _manualControl?.Attach(circuit); // outside the lock: isolating raises the circuit's events on this thread
    }

    /// <summary>Maps a transition onto the callback for its new state (the circuit calls it outside its lock, in order).</summary>
    private void OnStateChanged(object? sender, CircuitTransition transition)
    {
        Func<CircuitTransition, ValueTask>? callback = transition.To switch
        {
            CircuitState.Open or CircuitState.Isolated => _onOpened,
            CircuitState.Closed => _onClosed,
            CircuitState.HalfOpen => _onHalfOpened,
            _ => null,
        };
        if (callback is null)
        {
            return;
        }

        try
        {
            ValueTask pending = callback(transition);
            if (!pending.IsCompletedSuccessfully)
            {
                _ = ObserveAsync(pending);
            }
        }
#pragma warning disable CA1031 // A throwing callback must not stop the circuit's other state-change handlers.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private static async Task ObserveAsync(ValueTask pending)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Nobody awaits an asynchronous callback: its exception is ignored, as a synchronous one's is.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }
}
