using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.Dashboard.Internal;
using Tripswitch.Dashboard.Tests.Infrastructure;

namespace Tripswitch.Dashboard.Tests;

/// <summary>
/// The event stream against a real Kestrel server. The dashboard's clock is a <see cref="FakeTimeProvider"/>, so a
/// snapshot arrives only when a test advances it: any other event is pushed by a transition.
/// </summary>
public class EventStreamTests
{
    [Fact]
    public async Task Events_OnConnect_SendsRetryAndASnapshotOfEveryCircuit()
    {
        FakeTimeProvider clock = TestBreakers.Clock();
        CircuitBreakerRegistry registry = TestBreakers.Registry(clock, o => { o.FailureThreshold = 3; o.RecoveryTimeout = TimeSpan.FromSeconds(30); });
        registry.Succeed("b", 2);
        registry.Fail("a", 3);
        await using DashboardServer server = await StartAsync(registry, clock);
        using CancellationTokenSource timeout = Eventually.Deadline();

        await using SseClient events = await SseClient.ConnectAsync(server.Client, "tripswitch/events", timeout.Token);
        JsonElement snapshot = await events.ExpectAsync("snapshot", timeout.Token);

        Assert.Equal("text/event-stream", events.Response.Content.Headers.ContentType?.MediaType);
        Assert.True(events.Response.Headers.CacheControl?.NoCache);
        Assert.Equal(1000, events.Retry);
        Assert.Equal(clock.GetUtcNow(), snapshot.GetProperty("generatedAt").GetDateTimeOffset());
        JsonElement[] circuits = [.. snapshot.GetProperty("circuits").EnumerateArray()];
        Assert.Equal(["a", "b"], circuits.Select(c => c.GetProperty("name").GetString()));
        Assert.Equal("Open", circuits[0].GetProperty("state").GetString());
        Assert.Equal(30.0, circuits[0].GetProperty("retryAfterSeconds").GetDouble());
        Assert.Equal("Open", circuits[0].GetProperty("lastTransition").GetProperty("to").GetString());
        Assert.False(circuits[0].TryGetProperty("transitions", out _)); // the stream sends the last one only
        Assert.Equal(2, circuits[1].GetProperty("successful").GetInt64());
    }

    [Fact]
    public async Task Events_CircuitTrips_TransitionIsPushedAtOnce()
    {
        FakeTimeProvider clock = TestBreakers.Clock();
        CircuitBreakerRegistry registry = TestBreakers.Registry(clock, o => { o.FailureThreshold = 3; o.RecoveryTimeout = TimeSpan.FromSeconds(30); });
        await using DashboardServer server = await StartAsync(registry, clock);
        using CancellationTokenSource timeout = Eventually.Deadline();
        await using SseClient events = await SseClient.ConnectAsync(server.Client, "tripswitch/events", timeout.Token);
        Assert.Empty((await events.ExpectAsync("snapshot", timeout.Token)).GetProperty("circuits").EnumerateArray());

        registry.Fail("openai/gpt-4.1", 3);
        JsonElement trip = await events.ExpectAsync("transition", timeout.Token);
        registry.Get("payments").Isolate();
        JsonElement isolate = await events.ExpectAsync("transition", timeout.Token);

        Assert.Equal("openai/gpt-4.1", trip.GetProperty("circuit").GetString());
        Assert.Equal("Closed", trip.GetProperty("from").GetString());
        Assert.Equal("Open", trip.GetProperty("to").GetString());
        Assert.Equal(TestBreakers.Start, trip.GetProperty("at").GetDateTimeOffset());
        Assert.Equal("System.TimeoutException", trip.GetProperty("cause").GetString());
        Assert.False(trip.TryGetProperty("droppedTransitions", out _));
        Assert.Equal("payments", isolate.GetProperty("circuit").GetString());
        Assert.Equal("Isolated", isolate.GetProperty("to").GetString());
        Assert.False(isolate.TryGetProperty("cause", out _));
    }

    [Fact]
    public async Task Events_DashboardClockTicks_SendsASnapshotEachInterval()
    {
        FakeTimeProvider clock = TestBreakers.Clock();
        CircuitBreakerRegistry registry = TestBreakers.Registry(clock, o => { o.FailureThreshold = 3; o.RecoveryTimeout = TimeSpan.FromSeconds(30); });
        await using DashboardServer server = await StartAsync(registry, clock, TimeSpan.FromSeconds(5));
        using CancellationTokenSource timeout = Eventually.Deadline();
        await using SseClient events = await SseClient.ConnectAsync(server.Client, "tripswitch/events", timeout.Token);
        await events.ExpectAsync("snapshot", timeout.Token);

        clock.Advance(TimeSpan.FromSeconds(4)); // not yet an interval
        registry.Fail("a", 3);
        await events.ExpectAsync("transition", timeout.Token); // so no snapshot came before it
        clock.Advance(TimeSpan.FromSeconds(1));
        JsonElement first = await events.ExpectAsync("snapshot", timeout.Token);
        registry.Succeed("b");
        clock.Advance(TimeSpan.FromSeconds(5));
        JsonElement second = await events.ExpectAsync("snapshot", timeout.Token);

        Assert.Equal(TestBreakers.Start.AddSeconds(5), first.GetProperty("generatedAt").GetDateTimeOffset());
        JsonElement a = Assert.Single(first.GetProperty("circuits").EnumerateArray());
        Assert.Equal("Open", a.GetProperty("state").GetString());
        Assert.Equal(29.0, a.GetProperty("retryAfterSeconds").GetDouble()); // opened at +4 s for 30 s
        Assert.Equal(TestBreakers.Start.AddSeconds(10), second.GetProperty("generatedAt").GetDateTimeOffset());
        Assert.Equal(["a", "b"], second.GetProperty("circuits").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.Equal(24.0, second.GetProperty("circuits")[0].GetProperty("retryAfterSeconds").GetDouble());
    }

    [Fact]
    public async Task Events_ClientDisconnects_StreamEndsAndUnsubscribes()
    {
        FakeTimeProvider clock = TestBreakers.Clock();
        CircuitBreakerRegistry registry = TestBreakers.Registry(clock, o => { o.FailureThreshold = 3; o.RecoveryTimeout = TimeSpan.FromSeconds(30); });
        await using DashboardServer server = await StartAsync(registry, clock);
        DashboardFeed feed = server.Feed;
        var ended = new TaskCompletionSource<StreamEndReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        feed.StreamEnded += reason => ended.TrySetResult(reason);
        using CancellationTokenSource timeout = Eventually.Deadline();

        SseClient events = await SseClient.ConnectAsync(server.Client, "tripswitch/events", timeout.Token);
        await events.ExpectAsync("snapshot", timeout.Token);
        Assert.Equal(1, feed.ActiveStreams);
        await events.DisposeAsync(); // the browser tab closes
        StreamEndReason reason = await ended.Task.WaitAsync(timeout.Token);

        Assert.Equal(StreamEndReason.ClientDisconnected, reason);
        Assert.Equal(0, feed.ActiveStreams);
        registry.Fail("after", 5); // no subscriber left to feed
        Assert.Equal(0, feed.ActiveStreams);
    }

    [Fact]
    public async Task Events_ApplicationStops_StreamEndsCleanlyAndStopIsNotHeldUp()
    {
        FakeTimeProvider clock = TestBreakers.Clock();
        CircuitBreakerRegistry registry = TestBreakers.Registry(clock, o => { o.FailureThreshold = 3; o.RecoveryTimeout = TimeSpan.FromSeconds(30); });
        await using DashboardServer server = await StartAsync(registry, clock);
        DashboardFeed feed = server.Feed;
        var ended = new TaskCompletionSource<StreamEndReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        feed.StreamEnded += reason => ended.TrySetResult(reason);
        using CancellationTokenSource timeout = Eventually.Deadline();
        await using SseClient events = await SseClient.ConnectAsync(server.Client, "tripswitch/events", timeout.Token);
        await events.ExpectAsync("snapshot", timeout.Token);

        Task stopping = server.App.StopAsync(timeout.Token);
        SseEvent? afterStop = await events.ReadEventAsync(timeout.Token);
        await stopping;

        Assert.Null(afterStop); // a clean end of the response, not a reset connection
        Assert.Equal(StreamEndReason.ApplicationStopping, await ended.Task.WaitAsync(timeout.Token));
        Assert.Equal(0, feed.ActiveStreams);
    }

    [Fact]
    public async Task Events_BurstOfTransitions_EachIsSentOrCountedAsDropped()
    {
        const int Transitions = 400;
        FakeTimeProvider clock = TestBreakers.Clock();
        CircuitBreakerRegistry registry = TestBreakers.Registry(clock, o => { o.FailureThreshold = 3; o.RecoveryTimeout = TimeSpan.FromSeconds(30); });
        await using DashboardServer server = await DashboardServer.StartAsync(map: app => app.MapTripswitchDashboard(
            "/tripswitch",
            o => { o.Registry = registry; o.TimeProvider = clock; o.TransitionBufferCapacity = 2; }));
        using CancellationTokenSource timeout = Eventually.Deadline();
        await using SseClient events = await SseClient.ConnectAsync(server.Client, "tripswitch/events", timeout.Token);
        await events.ExpectAsync("snapshot", timeout.Token);

        CircuitBreaker breaker = registry.Get("flapping");
        for (int i = 0; i < Transitions / 2; i++)
        {
            breaker.Isolate();
            breaker.Reset();
        }

        long sent = 0, dropped = 0;
        JsonElement last;
        do
        {
            last = await events.ExpectAsync("transition", timeout.Token);
            sent++;
            dropped += last.TryGetProperty("droppedTransitions", out JsonElement d) ? d.GetInt64() : 0;
        }
        while (sent + dropped < Transitions);

        Assert.Equal(Transitions, sent + dropped);
        Assert.Equal("Closed", last.GetProperty("to").GetString()); // the newest is never the one dropped
        Assert.Equal("Isolated", last.GetProperty("from").GetString());
    }

    private static Task<DashboardServer> StartAsync(CircuitBreakerRegistry registry, TimeProvider clock, TimeSpan? interval = null)
        => DashboardServer.StartAsync(map: app => app.MapTripswitchDashboard("/tripswitch", o =>
        {
            o.Registry = registry;
            o.TimeProvider = clock;
            o.SnapshotInterval = interval ?? TimeSpan.FromSeconds(1);
        }));
}
