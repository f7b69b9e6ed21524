namespace Tripswitch.Sharing;

/// <summary>How a half-open probe ended, as <see cref="CircuitCoordinator.OnProbeCompleted"/> reports it.</summary>
public enum ProbeOutcome
{
    /// <summary>The probe succeeded.</summary>
    Succeeded,

    /// <summary>The probe failed, or did not report within <see cref="CircuitBreakerOptions.HalfOpenProbeTimeout"/>: the circuit reopened.</summary>
    Failed,

    /// <summary>The probe ended without a verdict (its outcome was ignored, e.g. the caller cancelled): its slot is free again.</summary>
    Released,
}
