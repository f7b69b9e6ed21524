namespace Tripswitch.FakeLlm;

/// <summary>
/// A behavior that holds requests: each one waits until <see cref="Release(FakeLlmBehavior)"/> (then it is answered
/// as told) or until its client goes away (cancellation, timeout), whichever comes first.
/// </summary>
public sealed class FakeLlmHang : FakeLlmBehavior
{
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _clientGone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<FakeLlmBehavior> _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _waiting;

    internal FakeLlmHang()
    {
    }

    /// <summary>Completes when the first request reaches the hang (so a test knows the server holds it).</summary>
    public Task Entered => _entered.Task;

    /// <summary>Completes when a held request's client went away (its connection was aborted) before the release.</summary>
    public Task ClientGone => _clientGone.Task;

    /// <summary>How many requests the hang holds now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Lets every held request (and every later one) go on with <paramref name="then"/>.</summary>
    /// <param name="then">What the released requests do; usually <see cref="FakeLlmBehavior.Reply(string)"/>.</param>
    /// <returns><see langword="false"/> when the hang was already released.</returns>
    public bool Release(FakeLlmBehavior then)
    {
        ArgumentNullException.ThrowIfNull(then);
        return _released.TrySetResult(then);
    }

    /// <summary>Holds a request until the release, the client's abort or the server's shutdown.</summary>
    /// <returns>What to do next, or <see langword="null"/> when the request is gone or the server stops.</returns>
    internal async Task<FakeLlmBehavior?> HoldAsync(CancellationToken requestAborted, CancellationToken serverStopping)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, serverStopping);
        Interlocked.Increment(ref _waiting);
        _entered.TrySetResult();
        try
        {
            return await _released.Task.WaitAsync(either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (either.IsCancellationRequested)
        {
            if (requestAborted.IsCancellationRequested)
            {
                _clientGone.TrySetResult();
            }

            return null;
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }
}
