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
internal sealed class TripswitchResilienceStrategy<TResult> : ResilienceStrategy<TResult>
{
    private readonly CircuitBreaker? _breaker;
    private readonly CircuitBreakerRegistry? _registry;
    private readonly Func<ResilienceContext, string>? _keySelector;
    private readonly Func<TResult, bool>? _isFailure;
    private readonly Func<TResult, TimeSpan?>? _retryAfter;

    public TripswitchResilienceStrategy(TripswitchStrategyOptions<TResult> options)
    {
        _breaker = options.Breaker;
        _registry = options.Registry;
        _keySelector = options.KeySelector;
        _isFailure = options.IsFailure;
        _retryAfter = options.RetryAfter;
    }

    protected override async ValueTask<Outcome<TResult>> ExecuteCore<TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback,
        ResilienceContext context,
        TState state)
    {
        CircuitBreaker breaker = _breaker ?? _registry!.Get(_keySelector!(context));
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
