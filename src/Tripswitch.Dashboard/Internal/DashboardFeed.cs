using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

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

    /// <summary>Every circuit of the registry now, ordered by name, each with its recent transitions.</summary>
    public DashboardSnapshot Capture()
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
                circuits.Add(CircuitStatus.Of(key, breaker.GetSummary()));
            }
        }

        return new DashboardSnapshot(now, circuits);
    }

    /// <summary>GET {pattern}/status: the JSON status document.</summary>
    public Task WriteStatusAsync(HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsJsonAsync(
            Capture(),
            DashboardJsonContext.Default.DashboardSnapshot,
            contentType: "application/json; charset=utf-8",
            context.RequestAborted);
    }

    /// <summary>
    /// GET {pattern}/events?q=&amp;state=&amp;sort=&amp;page=&amp;pageSize=: one page of that view, as a
    /// <c>snapshot</c> event at once, then a <c>diff</c> event of what changed every snapshot interval and right after
    /// each <c>transition</c> event, until the client disconnects or the application stops. A bad query is a 400 that
    /// names the parameter and its valid values.
    /// </summary>
    public async Task StreamAsync(HttpContext context)
    {
        if (!ViewQuery.TryParse(context.Request.Query, out ViewQuery view, out string? error))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync(error!, context.RequestAborted).ConfigureAwait(false);
            return;
        }

        context.Response.Headers["X-Accel-Buffering"] = "no"; // reverse proxies (nginx) must not hold the stream back
        try
        {
            // The framework's SSE result writes the events (and sets the headers, and turns response buffering off).
            await TypedResults.ServerSentEvents(EventsAsync(view, context.RequestAborted)).ExecuteAsync(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away mid-write: nothing to answer.
        }
    }

    /// <summary>The events of one client's stream; ends (without throwing) when the client goes or the application stops.</summary>
    private async IAsyncEnumerable<SseItem<byte[]>> EventsAsync(ViewQuery view, [EnumeratorCancellation] CancellationToken requestAborted)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, _applicationStopping);
        CancellationToken cancellationToken = stop.Token;
        var queue = new TransitionQueue(_transitionBufferCapacity);
        var differ = new ViewDiffer();
        _registry.StateChanged += queue.OnStateChanged;
        Interlocked.Increment(ref _activeStreams);
        try
        {
            using var timer = new PeriodicTimer(_snapshotInterval, _timeProvider);
            yield return Item("snapshot", differ.Snapshot(Page(view)), DashboardJsonContext.Default.ViewSnapshot, differ.Seq) with
            {
                ReconnectionInterval = DashboardDefaults.ReconnectDelay,
            };

            // At most one wait of each kind is pending at a time; a wait is renewed only once it has completed, so
            // a quiet registry doesn't pile up waiters in the queue. WhenAny never throws: a cancelled wait ends the
            // loop below instead of an exception (an iterator can't catch around a yield).
            Task<bool>? readable = null;
            Task<bool>? tick = null;
            while (true)
            {
                readable ??= queue.WaitToReadAsync(cancellationToken).AsTask();
                tick ??= timer.WaitForNextTickAsync(cancellationToken).AsTask();
                await Task.WhenAny(readable, tick).ConfigureAwait(false);
                if (cancellationToken.IsCancellationRequested || (tick.IsCompletedSuccessfully && !tick.Result))
                {
                    yield break;
                }

                bool transitioned = false;
                if (readable.IsCompleted)
                {
                    readable = null;
                    while (queue.TryDequeue(out CircuitTransition transition))
                    {
                        transitioned = true;
                        long dropped = queue.TakeDropped();
                        yield return Item("transition", TransitionStatus.Of(transition, dropped > 0 ? dropped : null), DashboardJsonContext.Default.TransitionStatus);
                    }
                }

                bool ticked = tick.IsCompleted;
                if (ticked)
                {
                    tick = null;
                }

                // After transitions at once, so a tripped circuit moves to its place on the page live; on a tick
                // always (an empty diff says the stream is alive). Every diff made is sent: the seq has no gaps.
                if (ticked || transitioned)
                {
                    ViewDiff diff = differ.Diff(Page(view), queue.TakeDropped());
                    yield return Item("diff", diff, DashboardJsonContext.Default.ViewDiff, diff.Seq);
                }
            }
        }
        finally
        {
            _registry.StateChanged -= queue.OnStateChanged;
            stop.Cancel(); // ends the waits still pending
            Interlocked.Decrement(ref _activeStreams);
            StreamEnded?.Invoke(_applicationStopping.IsCancellationRequested ? StreamEndReason.ApplicationStopping : StreamEndReason.ClientDisconnected);
        }
    }

    private ViewPage Page(ViewQuery view) => ViewPage.Take(_registry, view, _timeProvider.GetUtcNow());

    /// <summary>One event: compact JSON (never a line break, so one <c>data:</c> line), from the source-generated context.</summary>
    private static SseItem<byte[]> Item<T>(string eventType, T value, JsonTypeInfo<T> typeInfo, long? seq = null)
        => new(JsonSerializer.SerializeToUtf8Bytes(value, typeInfo), eventType)
        {
            EventId = seq?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
}
