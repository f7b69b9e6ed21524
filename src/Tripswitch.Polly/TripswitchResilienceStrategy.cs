using Polly;

namespace Tripswitch.Polly;

/// <summary>
/// Runs each execution through a Tripswitch circuit: acquire a permit (or reject with <see cref="CircuitOpenException"/>
/// as the outcome, without running the callback), run the callback, and report its outcome on the permit exactly once.
/// </summary>
/// <remarks>
/// Exceptions are classified by the permit (<see cref="CircuitPermit.RecordException"/>: the caller's own cancellation is
/// not a failure, the circuit's <see cref="CircuitBreakerOptions.ShouldHandle"/> decides the rest); results by
/// <see cref="TripswitchStrategyOptions{TResult}.IsFailure"/>. If that predicate throws, the call counts as failed (so the
/// permit is never lost) and the predicate's exception surfaces: it is a bug the user must see.
/// </remarks>
internal sealed class TripswitchResilienceStrategy<TResult> : ResilienceStrategy<TResult>, IDisposable
{
    private readonly CircuitBreaker? _breaker;
    private readonly CircuitBreakerRegistry? _registry;
    private readonly Func<ResilienceContext, string>? _keySelector;
    private readonly Func<TResult, bool>? _isFailure;
    private readonly Func<TResult, TimeSpan?>? _retryAfter;
    private readonly StrategyCircuits? _circuits;
    private int _disposed;

    /// <summary>Creates the strategy of one pipeline; <paramref name="circuits"/> (shared by the pipelines of one <c>AddTripswitch</c>) counts it.</summary>
    public TripswitchResilienceStrategy(TripswitchStrategyOptions<TResult> options, StrategyCircuits? circuits)
    {
        _breaker = options.Breaker;
        _registry = options.Registry;
        _keySelector = options.KeySelector;
        _isFailure = options.IsFailure;
        _retryAfter = options.RetryAfter;
        _circuits = circuits;
        _circuits?.PipelineBuilt();
    }

    /// <summary>
    /// A copy of <paramref name="options"/> taken when the strategy is added, so later changes to the options can't reach
    /// the pipelines built afterwards.
    /// </summary>
    public static TripswitchStrategyOptions<TResult> Snapshot(TripswitchStrategyOptions<TResult> options) => new()
    {
        Name = options.Name,
        Breaker = options.Breaker,
        Registry = options.Registry,
        KeySelector = options.KeySelector,
        IsFailure = options.IsFailure,
        RetryAfter = options.RetryAfter,
        OnOpened = options.OnOpened,
        OnClosed = options.OnClosed,
        OnHalfOpened = options.OnHalfOpened,
        ManualControl = options.ManualControl,
    };

    /// <summary>Polly disposes a strategy with its pipeline (e.g. when a reload rebuilds it): its callbacks stop with the last such pipeline.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _circuits?.PipelineDisposed();
        }
    }

    protected override async ValueTask<Outcome<TResult>> ExecuteCore<TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback,
        ResilienceContext context,
        TState state)
    {
        CircuitBreaker breaker = _breaker ?? _registry!.Get(_keySelector!(context));
        if (_circuits is not null && _breaker is null)
        {
            _circuits.Attach(breaker); // a registry's circuit joins the callbacks and the manual control on its first execution here
        }

        if (!breaker.TryAcquirePermit(out CircuitPermit permit, out CircuitRejection rejection))
        {
            return Outcome.FromException<TResult>(rejection.ToException());
        }

        Outcome<TResult> outcome;
        try
        {
            outcome = await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
        }
        catch (Exception ex)
        {
            // Polly callbacks return their exceptions as outcomes; one that throws anyway is still reported once.
            permit.RecordException(ex, context.CancellationToken);
            throw;
        }

        Record(permit, outcome, context.CancellationToken);
        return outcome;
    }

    private void Record(CircuitPermit permit, Outcome<TResult> outcome, CancellationToken cancellationToken)
    {
        if (outcome.Exception is { } exception)
        {
            permit.RecordException(exception, cancellationToken);
            return;
        }

        bool failed;
        TimeSpan? retryAfter = null;
        try
        {
            failed = _isFailure is not null && _isFailure(outcome.Result!);
            if (failed && _retryAfter is not null)
            {
                retryAfter = _retryAfter(outcome.Result!);
            }
        }
        catch
        {
            permit.RecordFailure();
            throw;
        }

        if (failed)
        {
            permit.RecordFailure(exception: null, retryAfter);
        }
        else
        {
            permit.RecordSuccess();
        }
    }
}
