using Xunit;

namespace Tripswitch.Testing;

/// <summary>
/// The one way tests wait on something real (a server, a process, another thread): poll a condition or await a task
/// under a generous bound, and fail the test naming what never happened. Never a fixed sleep.
/// </summary>
public static class Eventually
{
    /// <summary>The default bound: generous, because a busy 2-core CI machine may be slow; things normally take milliseconds.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>How often <see cref="True(Func{bool}, string, TimeSpan?)"/> checks its condition.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(5);

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test after <paramref name="timeout"/> (default <see cref="Timeout"/>).</summary>
    public static Task True(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return True(() => Task.FromResult(condition()), what, timeout);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test after <paramref name="timeout"/> (default <see cref="Timeout"/>).</summary>
    public static async Task True(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        TimeSpan bound = timeout ?? Timeout;
        long start = TimeProvider.System.GetTimestamp();
        while (!await condition())
        {
            if (TimeProvider.System.GetElapsedTime(start) > bound)
            {
                throw new TimeoutException($"Timed out after {bound.TotalMilliseconds} ms waiting for: {what}.");
            }

            await Task.Delay(PollInterval, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Awaits <paramref name="task"/>; fails the test naming <paramref name="what"/> if it doesn't complete within <paramref name="timeout"/>.</summary>
    public static async Task<T> Within<T>(this Task<T> task, string what, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        TimeSpan bound = timeout ?? Timeout;
        try
        {
            return await task.WaitAsync(bound, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"Timed out after {bound.TotalMilliseconds} ms waiting for: {what}.", ex);
        }
    }

    /// <summary>Awaits <paramref name="task"/>; fails the test naming <paramref name="what"/> if it doesn't complete within <paramref name="timeout"/>.</summary>
    public static async Task Within(this Task task, string what, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        TimeSpan bound = timeout ?? Timeout;
        try
        {
            await task.WaitAsync(bound, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"Timed out after {bound.TotalMilliseconds} ms waiting for: {what}.", ex);
        }
    }

    /// <summary>Waits for <paramref name="thread"/> to end; fails the test naming <paramref name="what"/> if it is still running after <paramref name="timeout"/>.</summary>
    public static void Ended(Thread thread, string what, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(thread);
        TimeSpan bound = timeout ?? Timeout;
        if (!thread.Join(bound))
        {
            throw new TimeoutException($"Timed out after {bound.TotalMilliseconds} ms waiting for: {what}.");
        }
    }

    /// <summary>A token cancelled after <paramref name="timeout"/> (default <see cref="Timeout"/>) or when the test is cancelled.</summary>
    public static CancellationTokenSource Deadline(TimeSpan? timeout = null)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeout ?? Timeout);
        return cts;
    }

    /// <summary>
    /// Completes with the timestamp (<see cref="TimeProvider.System"/>) at which <paramref name="breaker"/> raised
    /// <see cref="CircuitBreaker.StateChanged"/> to <paramref name="state"/>. Subscribe before causing the change; await it
    /// with <see cref="Within{T}(Task{T}, string, TimeSpan?)"/>.
    /// </summary>
    public static Task<long> StateChange(CircuitBreaker breaker, CircuitState state)
    {
        ArgumentNullException.ThrowIfNull(breaker);
        var reached = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(object? sender, CircuitTransition transition)
        {
            if (transition.To == state)
            {
                reached.TrySetResult(TimeProvider.System.GetTimestamp());
                breaker.StateChanged -= OnChanged;
            }
        }

        breaker.StateChanged += OnChanged;
        return reached.Task;
    }
}
