namespace Tripswitch.Controller;

/// <summary>
/// A timer of a <see cref="TimeProvider"/> that holds its target weakly and disposes itself once the target was
/// collected: a circuit (or its time window) that nobody uses any more is not kept alive by its own timer. The state
/// machine's attention timer and the time window's bucket timer are both this.
/// </summary>
/// <typeparam name="T">The target's type.</typeparam>
internal sealed class WeakTimer<T> : IDisposable
    where T : class
{
    private readonly WeakReference<T> _target;
    private readonly Action<T> _callback;
    private readonly ITimer _timer;

    /// <summary>Creates the timer.</summary>
    /// <param name="time">The time provider whose timer it is.</param>
    /// <param name="target">The object called back, held weakly.</param>
    /// <param name="callback">Receives the target. It must not capture it (a <see langword="static"/> lambda), or the target could never be collected.</param>
    /// <param name="dueTime">When it first fires (<see cref="Timeout.InfiniteTimeSpan"/>: not yet).</param>
    /// <param name="period">Then how often (<see cref="Timeout.InfiniteTimeSpan"/>: once).</param>
    public WeakTimer(TimeProvider time, T target, Action<T> callback, TimeSpan dueTime, TimeSpan period)
    {
        _target = new WeakReference<T>(target);
        _callback = callback;
        _timer = time.CreateTimer(static state => ((WeakTimer<T>)state!).Fire(), this, dueTime, period);
    }

    /// <summary>Fires once after <paramref name="delay"/> (replacing any earlier schedule).</summary>
    public void Schedule(TimeSpan delay) => _timer.Change(delay, Timeout.InfiniteTimeSpan);

    /// <summary>Stops firing until the next <see cref="Schedule"/>.</summary>
    public void Cancel() => _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    /// <inheritdoc/>
    public void Dispose() => _timer.Dispose();

    private void Fire()
    {
        if (_target.TryGetTarget(out T? target))
        {
            _callback(target);
        }
        else
        {
            // The field is null only if the timer fired before the constructor returned, which a due time of
            // Timeout.InfiniteTimeSpan or of a bucket's length rules out; the target is alive then anyway.
            _timer?.Dispose();
        }
    }
}
