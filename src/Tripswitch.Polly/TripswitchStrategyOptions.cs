using Polly;

namespace Tripswitch.Polly;

/// <summary>
/// Options of the Tripswitch strategy of a Polly pipeline whose results are of type <typeparamref name="TResult"/>: which
/// circuit runs each execution, and which results count as failures. Which exceptions count is the circuit's own
/// <see cref="CircuitBreakerOptions.ShouldHandle"/>.
/// </summary>
/// <typeparam name="TResult">The pipeline's result type, for example <see cref="HttpResponseMessage"/>.</typeparam>
public class TripswitchStrategyOptions<TResult> : ResilienceStrategyOptions
{
    /// <summary>Creates options named <c>Tripswitch</c>.</summary>
    public TripswitchStrategyOptions()
    {
        Name = "Tripswitch";
    }

    /// <summary>The one circuit every execution runs through.</summary>
    /// <value>Defaults to <see langword="null"/>. Set either this, or <see cref="Registry"/> and <see cref="KeySelector"/>.</value>
    public CircuitBreaker? Breaker { get; set; }

    /// <summary>The registry whose circuits the executions run through, chosen by <see cref="KeySelector"/>.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public CircuitBreakerRegistry? Registry { get; set; }

    /// <summary>Chooses the circuit (registry key) of an execution, for example from the HTTP request it carries.</summary>
    /// <value>Defaults to <see langword="null"/>. Required with <see cref="Registry"/>.</value>
    public Func<ResilienceContext, string>? KeySelector { get; set; }

    /// <summary>Decides which results (not exceptions) count as failures, for example a 5xx or 429 response.</summary>
    /// <value>Defaults to <see langword="null"/>: every result is a success.</value>
    public Func<TResult, bool>? IsFailure { get; set; }

    /// <summary>Extracts how long the dependency asked callers to wait from a failed result (a 429's <c>Retry-After</c>).</summary>
    /// <value>Defaults to <see langword="null"/>: results give no hint (exceptions still can, see <see cref="IRetryAfterHint"/>).</value>
    public Func<TResult, TimeSpan?>? RetryAfter { get; set; }

    /// <summary>
    /// Called when a circuit of this strategy opens: <see cref="CircuitTransition.To"/> is <see cref="CircuitState.Open"/>
    /// (its <see cref="CircuitTransition.Cause"/> is the failure that tripped it, when there is one) or
    /// <see cref="CircuitState.Isolated"/> (an operator, or <see cref="ManualControl"/>, forced it open).
    /// </summary>
    /// <remarks>
    /// The circuits of this strategy are <see cref="Breaker"/>, or each circuit of <see cref="Registry"/> from the first
    /// execution this strategy runs through it; a transition counts whichever caller of the circuit caused it. The
    /// callbacks come from <see cref="CircuitBreaker.StateChanged"/>: once per transition, in order, outside any lock, on
    /// the thread that delivers the circuit's transitions. That thread doesn't wait for a callback that completes
    /// asynchronously, and an exception from a callback is ignored, as a throwing <see cref="CircuitBreaker.StateChanged"/>
    /// handler's is. The pipelines built from one <c>AddTripswitch</c> call share the callbacks (one call per transition
    /// however many were built); they stop once all of those pipelines are disposed (as an <c>AddResilienceHandler</c>
    /// pipeline is when a reload rebuilds it).
    /// </remarks>
    /// <value>Defaults to <see langword="null"/>.</value>
    public Func<CircuitTransition, ValueTask>? OnOpened { get; set; }

    /// <summary>Called when a circuit of this strategy closes (<see cref="CircuitTransition.To"/> is <see cref="CircuitState.Closed"/>), as <see cref="OnOpened"/> is called.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public Func<CircuitTransition, ValueTask>? OnClosed { get; set; }

    /// <summary>Called when a circuit of this strategy goes half-open (<see cref="CircuitTransition.To"/> is <see cref="CircuitState.HalfOpen"/>), as <see cref="OnOpened"/> is called.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public Func<CircuitTransition, ValueTask>? OnHalfOpened { get; set; }

    /// <summary>A handle that isolates and closes the circuits of this strategy (<see cref="TripswitchManualControl"/>); one handle may serve several strategies.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public TripswitchManualControl? ManualControl { get; set; }

    /// <summary>Every problem with these options, as data; empty when they are valid.</summary>
    /// <returns>The errors.</returns>
    public IReadOnlyList<OptionError> GetValidationErrors()
    {
        const string Owner = "TripswitchStrategyOptions";
        var errors = new List<OptionError>();
        if (Breaker is not null && Registry is not null)
        {
            errors.Add(new OptionError(OptionErrorKind.Invalid, Owner, nameof(Registry), "set", $"null when {nameof(Breaker)} is set", $"{Owner}: set either {nameof(Breaker)} or {nameof(Registry)} (with {nameof(KeySelector)}), not both."));
        }
        else if (Breaker is null && Registry is null)
        {
            OptionChecks.CheckNotNull(errors, Owner, nameof(Breaker), Breaker, $"set it, or set {nameof(Registry)} and {nameof(KeySelector)}.");
        }
        else if (Registry is not null)
        {
            OptionChecks.CheckNotNull(errors, Owner, nameof(KeySelector), KeySelector, $"it chooses the circuit of each execution in {nameof(Registry)}.");
        }

        return errors;
    }

    /// <summary>Throws the first of <see cref="GetValidationErrors"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public void Validate() => OptionChecks.ThrowIfAny(GetValidationErrors());
}

/// <summary>Options of the Tripswitch strategy of a pipeline without a result type (<see cref="ResiliencePipelineBuilder"/>).</summary>
public class TripswitchStrategyOptions : TripswitchStrategyOptions<object>
{
}
