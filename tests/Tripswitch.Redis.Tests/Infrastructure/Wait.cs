namespace Tripswitch.Redis.Tests.Infrastructure;

/// <summary>Waiting on conditions, never for a fixed time.</summary>
internal static class Wait
{
    /// <summary>How often <see cref="Eventually(Func{bool}, TimeSpan, string)"/> checks its condition.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(5);

    /// <summary>A generous bound for things that normally take milliseconds (a busy 2-core CI machine included).</summary>
    public static readonly TimeSpan Long = TimeSpan.FromSeconds(10);

    public static Task Eventually(Func<bool> condition, TimeSpan timeout, string what)
        => Eventually(() => Task.FromResult(condition()), timeout, what);

    /// <summary>Polls <paramref name="condition"/> every <see cref="PollInterval"/> until it holds; fails the test after <paramref name="timeout"/>.</summary>
    public static async Task Eventually(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        long start = TimeProvider.System.GetTimestamp();
        while (!await condition())
        {
            if (TimeProvider.System.GetElapsedTime(start) > timeout)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalMilliseconds} ms waiting for: {what}.");
            }

            await Task.Delay(PollInterval, Xunit.TestContext.Current.CancellationToken);
        }
    }

    /// <summary>
    /// Completes with the timestamp (<see cref="TimeProvider.System"/>) at which <paramref name="breaker"/> raised
    /// <see cref="CircuitBreaker.StateChanged"/> to <paramref name="state"/> — or, when it is in that state already, now.
    /// Subscribe before causing the change.
    /// </summary>
    public static Task<long> ForState(CircuitBreaker breaker, CircuitState state)
    {
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

    public static async Task<long> Within(this Task<long> task, TimeSpan timeout, string what)
    {
        try
        {
            return await task.WaitAsync(timeout, Xunit.TestContext.Current.CancellationToken);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"Timed out after {timeout.TotalMilliseconds} ms waiting for: {what}.", ex);
        }
    }

    public static double Milliseconds(long from, long to) => TimeProvider.System.GetElapsedTime(from, to).TotalMilliseconds;
}
