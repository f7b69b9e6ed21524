namespace Tripswitch.Controller;

/// <summary>What a <see cref="CircuitPermit"/> was granted as: it decides how the permit's outcome is reported.</summary>
internal enum PermitKind : byte
{
    /// <summary>A call of a closed circuit (zero, so "closed and not timed" is one test on the hot path).</summary>
    Closed = 0,

    /// <summary>One of a half-open circuit's probes: it holds a probe slot until its first report.</summary>
    Probe,

    /// <summary>MetricsOnly mode: a call the circuit would have rejected; it runs, and only the metrics see it.</summary>
    Shadow,

    /// <summary>Disabled mode: every call passes and nothing is recorded.</summary>
    Disabled,
}
