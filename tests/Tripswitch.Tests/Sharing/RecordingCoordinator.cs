using System.Collections.Concurrent;
using Tripswitch.Sharing;

namespace Tripswitch.Tests.Sharing;

/// <summary>A coordinator that grants every probe lease (ids 1, 2, …) and records every notification, in order.</summary>
internal sealed class RecordingCoordinator(SharedCircuit circuit) : CircuitCoordinator, IDisposable
{
    private long _nextLease;

    public SharedCircuit Circuit { get; } = circuit;

    public ConcurrentQueue<string> Events { get; } = new();

    public ConcurrentQueue<(TimeSpan OpenFor, TimeSpan? Hint, long Version)> Trips { get; } = new();

    public ConcurrentQueue<(long Lease, ProbeOutcome Outcome, TimeSpan ReopenFor)> Probes { get; } = new();

    public ConcurrentQueue<TimeSpan> Hints { get; } = new();

    public ConcurrentQueue<(CircuitState State, long Version)> ManualChanges { get; } = new();

    public bool GrantLeases { get; set; } = true;

    /// <summary>What <see cref="JudgesFailureWindow"/> answers (the fleet judges the window while true).</summary>
    public bool JudgeWindow { get; set; }

    public override bool JudgesFailureWindow => JudgeWindow;

    public bool Disposed { get; private set; }

    public override bool TryTakeProbeLease(out long lease)
    {
        lease = GrantLeases ? Interlocked.Increment(ref _nextLease) : 0;
        Events.Enqueue("lease");
        return GrantLeases;
    }

    public override void OnProbeCompleted(long lease, ProbeOutcome outcome, TimeSpan reopenFor)
    {
        Probes.Enqueue((lease, outcome, reopenFor));
        Events.Enqueue($"probe {outcome}");
    }

    public override void OnLocalTrip(TimeSpan openFor, TimeSpan? retryAfterHint, long version)
    {
        Trips.Enqueue((openFor, retryAfterHint, version));
        Events.Enqueue("trip");
    }

    public override void OnRetryAfterHint(TimeSpan hint)
    {
        Hints.Enqueue(hint);
        Events.Enqueue("hint");
    }

    public override void OnManualChange(CircuitState state, long version)
    {
        ManualChanges.Enqueue((state, version));
        Events.Enqueue($"manual {state}");
    }

    public void Dispose() => Disposed = true;
}
