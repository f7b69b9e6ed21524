namespace Tripswitch.Testing;

/// <summary>A timer of a <see cref="TimerTrackingTimeProvider"/>: the fake clock's timer, and whether it was disposed.</summary>
public sealed class TrackedTimer : ITimer
{
    private readonly ITimer _inner;
    private int _disposed;

    internal TrackedTimer(ITimer inner) => _inner = inner;

    /// <summary>Whether <see cref="Dispose"/> or <see cref="DisposeAsync"/> was called.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <inheritdoc/>
    public bool Change(TimeSpan dueTime, TimeSpan period) => _inner.Change(dueTime, period);

    /// <inheritdoc/>
    public void Dispose()
    {
        Volatile.Write(ref _disposed, 1);
        _inner.Dispose();
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        Volatile.Write(ref _disposed, 1);
        return _inner.DisposeAsync();
    }
}
