namespace Tripswitch;

/// <summary>How a circuit acts on what its rules decide.</summary>
public enum CircuitBreakerMode
{
    /// <summary>Normal operation: the rules run and an open circuit rejects calls. The default.</summary>
    Enabled = 0,

    /// <summary>
    /// Shadow mode: the rules run and every transition is reported and counted (as "would have opened"), but no call is
    /// ever rejected. Calls that would have been rejected run and are counted in <see cref="CircuitSummary.ShadowRejected"/>.
    /// How teams roll a breaker out safely in production.
    /// </summary>
    MetricsOnly = 1,

    /// <summary>Everything passes and nothing is recorded; the circuit stays closed.</summary>
    Disabled = 2,
}
