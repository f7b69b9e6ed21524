using Tripswitch.Controller;

namespace Tripswitch;

/// <summary>
/// Permission to make one call through a circuit: the first half of the two-step primitive every
/// <c>Execute</c> overload is built on. Get one from <see cref="CircuitBreaker.AcquirePermit"/> or
/// <see cref="CircuitBreaker.TryAcquirePermit(out CircuitPermit, out CircuitRejection)"/>, make the call, then report its outcome exactly once with
/// <see cref="RecordSuccess"/>, <see cref="RecordFailure"/>, <see cref="RecordIgnored"/> or <see cref="RecordException"/>.
/// </summary>
/// <remarks>
/// A permit remembers the generation of the state it was granted in: an outcome reported after the circuit moved on
/// is counted in the metrics but never changes the newer state. A half-open probe's slot stays taken until its outcome
/// is reported, so always report, even on paths that end in an exception.
/// </remarks>
public readonly struct CircuitPermit
{
    private readonly CircuitStateMachine? _machine;

    internal CircuitPermit(CircuitStateMachine machine, int generation, PermitKind kind, long probeId, long startTimestamp, CallCounters.Slot? slot)
    {
        _machine = machine;
        Generation = generation;
        Kind = kind;
        ProbeId = probeId;
        StartTimestamp = startTimestamp;
        Slot = slot;
    }

    /// <summary>The counter slot of the thread that acquired the permit (written only by that thread).</summary>
    internal CallCounters.Slot? Slot { get; }

    internal int Generation { get; }

    /// <summary>What the permit was granted as (fits beside <see cref="Generation"/>: the struct stays 40 bytes).</summary>
    internal PermitKind Kind { get; }

    /// <summary>A half-open probe's unique id (&gt; 0); 0 for every other kind.</summary>
    internal long ProbeId { get; }

    /// <summary>When the call started (TimeProvider timestamp), or 0 when it is not timed.</summary>
    internal long StartTimestamp { get; }

    /// <summary>Whether this permit is one of the half-open circuit's probe calls.</summary>
    public bool IsProbe => Kind == PermitKind.Probe;

    /// <summary>Reports that the call succeeded.</summary>
    /// <exception cref="InvalidOperationException">The permit is <see langword="default"/> (it was never granted).</exception>
    public void RecordSuccess() => Machine.OnSuccess(this);

    /// <summary>Reports that the call failed in a way that counts against the circuit.</summary>
    /// <param name="exception">The failure, when there is one; it is passed to state-change handlers as the cause.</param>
    /// <param name="retryAfter">
    /// How long the dependency asked callers to wait (a 429's <c>Retry-After</c>), when it said. When omitted, it is taken
    /// from an exception implementing <see cref="IRetryAfterHint"/> or from <see cref="CircuitBreakerOptions.RetryAfterExtractor"/>.
    /// </param>
    /// <exception cref="InvalidOperationException">The permit is <see langword="default"/> (it was never granted).</exception>
    public void RecordFailure(Exception? exception = null, TimeSpan? retryAfter = null) => Machine.OnFailure(this, exception, retryAfter);

    /// <summary>Reports an outcome that counts as neither success nor failure (for example the caller's own cancellation); frees a probe slot.</summary>
    /// <exception cref="InvalidOperationException">The permit is <see langword="default"/> (it was never granted).</exception>
    public void RecordIgnored() => Machine.OnIgnored(this);

    /// <summary>
    /// Reports a call that threw, classified like the <c>Execute</c> overloads do: an <see cref="OperationCanceledException"/>
    /// while <paramref name="cancellationToken"/> is cancelled (unless the call had already taken longer than
    /// <see cref="CircuitBreakerOptions.SlowCallThreshold"/>, which makes it a slow failure), or an exception the options'
    /// <see cref="CircuitBreakerOptions.ShouldHandle"/> rejects, is ignored; anything else is a failure.
    /// </summary>
    /// <param name="exception">What the call threw.</param>
    /// <param name="cancellationToken">The caller's own token.</param>
    /// <returns><see langword="true"/> when the exception was recorded as a failure; <see langword="false"/> when it was ignored.</returns>
    /// <exception cref="InvalidOperationException">The permit is <see langword="default"/> (it was never granted).</exception>
    public bool RecordException(Exception exception, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exception);
        CircuitStateMachine machine = Machine;
        if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            // The caller gave up: not a failure, unless the call had already been slower than the slow-call threshold
            // (callers that time out with their own token must not hide a hung upstream).
            return machine.OnCallerCancelled(this);
        }

        Func<Exception, bool>? shouldHandle = machine.Options.ShouldHandle;
        bool handled;
        try
        {
            handled = shouldHandle is null || shouldHandle(exception);
        }
        catch
        {
            // The predicate itself threw: count the call as failed so the permit is never lost, then let the
            // predicate's exception surface — it is a bug the user must see.
            machine.OnFailure(this, exception, null);
            throw;
        }

        if (handled)
        {
            machine.OnFailure(this, exception, null);
        }
        else
        {
            machine.OnIgnored(this);
        }

        return handled;
    }

    /// <summary>Reports success from the thread that acquired the permit, with no await in between (sync paths).</summary>
    internal void RecordSuccessOnAcquiringThread() => Machine.OnSuccessOnAcquiringThread(this);

    private CircuitStateMachine Machine
        => _machine ?? throw new InvalidOperationException("This CircuitPermit was never granted; get one from CircuitBreaker.AcquirePermit or TryAcquirePermit.");
}
