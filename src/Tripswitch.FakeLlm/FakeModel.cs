namespace Tripswitch.FakeLlm;

/// <summary>
/// One model of a <see cref="FakeLlmServer"/>: its script (queued one-shot behaviors, then a standing behavior) and
/// how many chat-completion requests it received. Thread-safe.
/// </summary>
public sealed class FakeModel
{
    private readonly Lock _sync = new();
    private readonly Queue<FakeLlmBehavior> _queue = new();
    private FakeLlmBehavior _standing;
    private int _requests;

    internal FakeModel(string name)
    {
        Name = name;
        _standing = FakeLlmBehavior.Reply(DefaultReply(name));
    }

    /// <summary>The model id, as requests name it and <c>GET /v1/models</c> lists it.</summary>
    public string Name { get; }

    /// <summary>How many chat-completion requests named this model.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>How many queued one-shot behaviors are still to be used.</summary>
    public int Queued
    {
        get
        {
            lock (_sync)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>The reply a model gives before it is scripted: <c>Hello from {model}.</c></summary>
    /// <param name="model">The model id.</param>
    /// <returns>The text.</returns>
    public static string DefaultReply(string model) => $"Hello from {model}.";

    /// <summary>
    /// Makes <paramref name="behavior"/> what the model does for every request once the queued behaviors are used up
    /// (the queue is kept: <c>Enqueue(a, 2).Always(b)</c> means a, a, then b forever).
    /// </summary>
    /// <param name="behavior">The standing behavior.</param>
    /// <returns>This model, for chaining.</returns>
    public FakeModel Always(FakeLlmBehavior behavior)
    {
        ArgumentNullException.ThrowIfNull(behavior);
        lock (_sync)
        {
            _standing = behavior;
        }

        return this;
    }

    /// <summary>Drops the queued one-shot behaviors; the standing behavior stays.</summary>
    /// <returns>This model, for chaining.</returns>
    public FakeModel ClearQueue()
    {
        lock (_sync)
        {
            _queue.Clear();
        }

        return this;
    }

    /// <summary>Queues <paramref name="behavior"/> for the next <paramref name="times"/> requests (after those queued before).</summary>
    /// <param name="behavior">The one-shot behavior.</param>
    /// <param name="times">How many requests get it.</param>
    /// <returns>This model, for chaining.</returns>
    public FakeModel Enqueue(FakeLlmBehavior behavior, int times = 1)
    {
        ArgumentNullException.ThrowIfNull(behavior);
        ArgumentOutOfRangeException.ThrowIfNegative(times);
        lock (_sync)
        {
            for (int i = 0; i < times; i++)
            {
                _queue.Enqueue(behavior);
            }
        }

        return this;
    }

    /// <summary>Counts a request and takes the behavior it gets.</summary>
    internal FakeLlmBehavior Next()
    {
        Interlocked.Increment(ref _requests);
        lock (_sync)
        {
            return _queue.TryDequeue(out FakeLlmBehavior? next) ? next : _standing;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Requests} requests)";
}
