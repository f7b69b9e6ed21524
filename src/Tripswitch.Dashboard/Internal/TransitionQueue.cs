using System.Threading.Channels;

namespace Tripswitch.Dashboard.Internal;

/// <summary>
/// The transitions waiting for one event-stream client: bounded, dropping the oldest when full, and counting what it
/// dropped so the stream can say so. Written by whichever thread changed a circuit's state, read by the stream's loop.
/// </summary>
internal sealed class TransitionQueue
{
    private readonly Channel<CircuitTransition> _channel;
    private long _dropped;

    public TransitionQueue(int capacity)
    {
        _channel = Channel.CreateBounded<CircuitTransition>(
            new BoundedChannelOptions(capacity)
            {
                FullMode = BoundedChannelFullMode.DropOldest,
                SingleReader = true,
                SingleWriter = false,
                // Continuations run on the thread pool, never on the thread that tripped a circuit.
                AllowSynchronousContinuations = false,
            },
            _ => Interlocked.Increment(ref _dropped));
    }

    /// <summary>Completes when a transition can be read (or throws when <paramref name="cancellationToken"/> is cancelled).</summary>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken) => _channel.Reader.WaitToReadAsync(cancellationToken);

    /// <summary>Takes the oldest waiting transition.</summary>
    public bool TryDequeue(out CircuitTransition transition) => _channel.Reader.TryRead(out transition);

    /// <summary>How many transitions were dropped since the last call (never blocks; a full queue never refuses a transition).</summary>
    public long TakeDropped() => Interlocked.Exchange(ref _dropped, 0);

    /// <summary>The <see cref="CircuitBreakerRegistry.StateChanged"/> handler: cheap, non-blocking, never throws.</summary>
    public void OnStateChanged(object? sender, CircuitTransition transition) => _channel.Writer.TryWrite(transition);
}
