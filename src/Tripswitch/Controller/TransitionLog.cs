namespace Tripswitch.Controller;

/// <summary>
/// A circuit's recent transitions (the last <see cref="CircuitBreakerDefaults.TransitionLogSize"/>) and their delivery
/// to its handlers: outside the lock, one thread at a time, in the order they happened.
/// </summary>
/// <remarks>
/// <see cref="AddLocked"/> and <see cref="SnapshotLocked"/> run under the state machine's lock (the same
/// <see cref="Lock"/> this log is given); <see cref="Dispatch"/> runs outside it, after the lock was released. A thread
/// that finds another one delivering leaves its transitions to it, so handlers never run concurrently for one circuit.
/// </remarks>
internal sealed class TransitionLog(Lock sync, Action<CircuitTransition> deliver)
{
    private CircuitTransition[]? _ring; // allocated at the first transition: most circuits of a registry never have one
    private int _next;
    private int _count;
    private Queue<CircuitTransition>? _pending;
    private int _pendingCount;
    private int _dispatching;

    /// <summary>How many transitions happened since the circuit was created.</summary>
    public long TotalLocked { get; private set; }

    /// <summary>Logs <paramref name="transition"/> and queues it for delivery.</summary>
    public void AddLocked(CircuitTransition transition)
    {
        _ring ??= new CircuitTransition[CircuitBreakerDefaults.TransitionLogSize];
        _ring[_next] = transition;
        _next = (_next + 1) % _ring.Length;
        _count = Math.Min(_count + 1, _ring.Length);
        TotalLocked++;
        (_pending ??= new Queue<CircuitTransition>()).Enqueue(transition);
        Volatile.Write(ref _pendingCount, _pendingCount + 1);
    }

    /// <summary>The logged transitions, oldest first.</summary>
    public CircuitTransition[] SnapshotLocked()
    {
        if (_ring is null)
        {
            return [];
        }

        var transitions = new CircuitTransition[_count];
        for (int i = 0; i < transitions.Length; i++)
        {
            transitions[i] = _ring[(_next - _count + i + _ring.Length) % _ring.Length];
        }

        return transitions;
    }

    /// <summary>Delivers the queued transitions (call it after releasing the lock). A throwing handler affects nothing.</summary>
    public void Dispatch()
    {
        if (Volatile.Read(ref _pendingCount) == 0 || Interlocked.CompareExchange(ref _dispatching, 1, 0) != 0)
        {
            return;
        }

        while (true)
        {
            CircuitTransition next;
            lock (sync)
            {
                if (_pending is null || !_pending.TryDequeue(out next))
                {
                    _pendingCount = 0;
                    Volatile.Write(ref _dispatching, 0);
                    return;
                }

                _pendingCount--;
            }

            try
            {
                deliver(next);
            }
#pragma warning disable CA1031 // A throwing state-change handler must not break the breaker or the caller's call.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }
}
