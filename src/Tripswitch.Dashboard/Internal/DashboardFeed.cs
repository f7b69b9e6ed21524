using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Tripswitch.Dashboard.Internal;

/// <summary>Why an event stream ended.</summary>
internal enum StreamEndReason
{
    /// <summary>The client went away (the request was aborted) or the response could not be written any more.</summary>
    ClientDisconnected,

    /// <summary>The application is stopping.</summary>
    ApplicationStopping,
}

/// <summary>
/// What one <c>MapTripswitchDashboard</c> call serves: the JSON status document, the event stream and the page, over
/// one registry. Attached to its endpoints as metadata.
/// </summary>
internal sealed class DashboardFeed
{
    private readonly CircuitBreakerRegistry _registry;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _snapshotInterval;
    private readonly int _transitionBufferCapacity;
    private readonly CancellationToken _applicationStopping;
    private int _activeStreams;

    public DashboardFeed(CircuitBreakerRegistry registry, TimeProvider timeProvider, TripswitchDashboardOptions options, CancellationToken applicationStopping)
    {
        _registry = registry;
        _timeProvider = timeProvider;
        _snapshotInterval = options.SnapshotInterval;
        _transitionBufferCapacity = options.TransitionBufferCapacity;
        _applicationStopping = applicationStopping;
    }

    /// <summary>Raised when an event stream has ended and unsubscribed from the registry (tests wait on it).</summary>
    internal event Action<StreamEndReason>? StreamEnded;

    /// <summary>How many event streams are open, each subscribed to the registry.</summary>
    internal int ActiveStreams => Volatile.Read(ref _activeStreams);

    /// <summary>Every circuit of the registry now, ordered by name.</summary>
    /// <param name="includeTransitions">Whether each circuit lists its recent transitions (the status document) or only its last one (the stream).</param>
    /// <param name="droppedTransitions">Transitions the stream's client missed, if any.</param>
    public DashboardSnapshot Capture(bool includeTransitions, long droppedTransitions = 0)
    {
        DateTimeOffset now = _timeProvider.GetUtcNow();
        string[] keys = [.. _registry.Status().Keys];
        Array.Sort(keys, StringComparer.Ordinal);
        var circuits = new List<CircuitStatus>(keys.Length);
        foreach (string key in keys)
        {
            // A breaker evicted since Status() read the keys is simply left out.
            if (_registry.TryGet(key, out CircuitBreaker? breaker))
            {
                circuits.Add(ToStatus(key, breaker.GetSummary(), includeTransitions));
            }
        }

        return new DashboardSnapshot(now, circuits, droppedTransitions > 0 ? droppedTransitions : null);
    }

    /// <summary>GET {pattern}/status: the JSON status document.</summary>
    public Task WriteStatusAsync(HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsJsonAsync(
            Capture(includeTransitions: true),
            DashboardJsonContext.Default.DashboardSnapshot,
            contentType: "application/json; charset=utf-8",
            context.RequestAborted);
    }

    /// <summary>
    /// GET {pattern}/events: a <c>snapshot</c> event at once and then every snapshot interval, and a <c>transition</c>
    /// event for every state change as it happens, until the client disconnects or the application stops.
    /// </summary>
    public async Task StreamAsync(HttpContext context)
    {
        HttpResponse response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache, no-store";
        response.Headers["X-Accel-Buffering"] = "no"; // reverse proxies (nginx) must not hold the stream back
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _applicationStopping);
        CancellationToken cancellationToken = stop.Token;
        var queue = new TransitionQueue(_transitionBufferCapacity);
        _registry.StateChanged += queue.OnStateChanged;
        Interlocked.Increment(ref _activeStreams);
        try
        {
            using var timer = new PeriodicTimer(_snapshotInterval, _timeProvider);
            using var writer = new SseWriter(response.BodyWriter);
            writer.WriteRetry(DashboardDefaults.ReconnectDelay);
            writer.WriteEvent("snapshot", Capture(includeTransitions: false), DashboardJsonContext.Default.DashboardSnapshot);
            if (IsDone(await response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false)))
            {
                return;
            }

            // At most one wait of each kind is pending at a time; a wait is renewed only once it has completed, so
            // a quiet registry doesn't pile up waiters in the queue.
            Task<bool>? readable = null;
            Task<bool>? tick = null;
            while (true)
            {
                readable ??= queue.WaitToReadAsync(cancellationToken).AsTask();
                tick ??= timer.WaitForNextTickAsync(cancellationToken).AsTask();
                await Task.WhenAny(readable, tick).ConfigureAwait(false);

                // Transitions first, so a snapshot taken next is never older than a transition sent after it.
                if (readable.IsCompleted)
                {
                    await readable.ConfigureAwait(false); // throws when cancelled
                    readable = null;
                    while (queue.TryDequeue(out CircuitTransition transition))
                    {
                        long dropped = queue.TakeDropped();
                        writer.WriteEvent("transition", TransitionStatus.Of(transition, dropped > 0 ? dropped : null), DashboardJsonContext.Default.TransitionStatus);
                    }
                }

                if (tick.IsCompleted)
                {
                    if (!await tick.ConfigureAwait(false))
                    {
                        return;
                    }

                    tick = null;
                    writer.WriteEvent("snapshot", Capture(includeTransitions: false, queue.TakeDropped()), DashboardJsonContext.Default.DashboardSnapshot);
                }

                if (IsDone(await response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false)))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away or the application is stopping: end the response normally.
        }
        finally
        {
            _registry.StateChanged -= queue.OnStateChanged;
            stop.Cancel(); // ends the waits still pending
            Interlocked.Decrement(ref _activeStreams);
            StreamEnded?.Invoke(_applicationStopping.IsCancellationRequested ? StreamEndReason.ApplicationStopping : StreamEndReason.ClientDisconnected);
        }
    }

    private static bool IsDone(FlushResult result) => result.IsCompleted || result.IsCanceled;

    private static CircuitStatus ToStatus(string name, CircuitSummary summary, bool includeTransitions)
    {
        IReadOnlyList<CircuitTransition> transitions = summary.Transitions;
        TransitionStatus[]? all = null;
        if (includeTransitions)
        {
            all = new TransitionStatus[transitions.Count];
            for (int i = 0; i < all.Length; i++)
            {
                all[i] = TransitionStatus.Of(transitions[i]);
            }
        }

        return new CircuitStatus(
            name,
            summary.State,
            summary.ConsecutiveFailures,
            summary.TotalCalls,
            summary.Successful,
            summary.Failed,
            summary.Ignored,
            summary.Rejected,
            summary.SlowCalls,
            summary.ShadowRejected,
            summary.SuccessRate,
            // Isolated circuits report TimeSpan.MaxValue: "until reset", which JSON says as null.
            summary.State == CircuitState.Isolated || summary.RetryAfter == TimeSpan.MaxValue ? null : Math.Round(summary.RetryAfter.TotalSeconds, 3),
            summary.StateChanges,
            transitions.Count > 0 ? TransitionStatus.Of(transitions[^1]) : null,
            all);
    }
}
