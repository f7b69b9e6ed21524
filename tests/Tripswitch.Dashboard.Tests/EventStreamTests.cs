using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.Dashboard.Internal;
using Tripswitch.Dashboard.Tests.Infrastructure;

namespace Tripswitch.Dashboard.Tests;

/// <summary>
/// The event stream against a real Kestrel server. The dashboard's clock is a <see cref="FakeTimeProvider"/>, so a
/// periodic diff arrives only when a test advances it: any other event is pushed by a transition.
/// </summary>
public class EventStreamTests
{
    [Fact]
    public async Task Events_OnConnect_SendsRetryAndASnapshotOfThePageOpenFirst()
    {
        FakeTimeProvider clock = TestBreakers.Clock();
        CircuitBreakerRegistry registry = TestBreakers.Registry(clock, o => { o.FailureThreshold = 3; o.RecoveryTimeout = TimeSpan.FromSeconds(30); });
        registry.Succeed("a", 2);
        registry.Fail("z", 3);
        await using DashboardServer server = await StartAsync(registry, clock);
        using CancellationTokenSource timeout = Eventually.Deadline();

        await using SseClient events = await SseClient.ConnectAsync(server.Client, "tripswitch/events", timeout.Token);
        SseEvent? first = await events.ReadEventAsync(timeout.Token);

        Assert.Equal("text/event-stream", events.Response.Content.Headers.ContentType?.MediaType);
        Assert.True(events.Response.Headers.CacheControl?.NoCache);
        Assert.Equal(1000, events.Retry);
        Assert.NotNull(first);
        Assert.Equal("snapshot", first.Name);
        Assert.Equal("1", first.Id);
        JsonElement snapshot = first.Json;
        Assert.Equal(1, snapshot.GetProperty("seq").GetInt64());
        Assert.Equal(clock.GetUtcNow(), snapshot.GetProperty("generatedAt").GetDateTimeOffset());
        JsonElement view = snapshot.GetProperty("view");
        Assert.Equal("state", view.GetProperty("sort").GetString());
        Assert.Equal(1, view.GetProperty("page").GetInt32());
        Assert.Equal(1, view.GetProperty("pages").GetInt32());
        Assert.Equal(50, view.GetProperty("pageSize").GetInt32());
        JsonElement totals = snapshot.GetProperty("totals");
        Assert.Equal(2, totals.GetProperty("circuits").GetInt32());
        Assert.Equal(1, totals.GetProperty("open").GetInt32());
        Assert.Equal(1, totals.GetProperty("closed").GetInt32());
        Assert.Equal(2, totals.GetProperty("matching").GetInt32());
        JsonElement[] circuits = [.. snapshot.GetProperty("circuits").EnumerateArray()];
        Assert.Equal(["z", "a"], circuits.Select(c => c.GetProperty("name").GetString())); // open first
        Assert.Equal("Open", circuits[0].GetProperty("state").GetString());
        Assert.Equal(clock.GetUtcNow().AddSeconds(30), circuits[0].GetProperty("retryAt").GetDateTimeOffset());
        Assert.Equal("Open", circuits[0].GetProperty("lastTransition").GetProperty("to").GetString());
        Assert.False(circuits[0].TryGetProperty("transitions", out _)); // the stream sends the last one only
        Assert.False(circuits[1].TryGetProperty("retryAt", out _));
        Assert.Equal(2, circuits[1].GetProperty("successful").GetInt64());
    }

    [Fact]
    public async Task Events_CircuitTrips_TransitionThenADiffMovingItToTheTopArePushedAtOnce()
    {
        FakeTimeProvider clock = TestBreakers.Clock();
        CircuitBreakerRegistry registry = TestBreakers.Registry(clock, o => { o.FailureThreshold = 3; o.RecoveryTimeout = TimeSpan.FromSeconds(30); });
        registry.Succeed("a");
        registry.Succeed("b");
        await using DashboardServer server = await StartAsync(registry, clock);
        using CancellationTokenSource timeout = Eventually.Deadline();
        await using SseClient events = await SseClient.ConnectAsync(server.Client, "tripswitch/events", timeout.Token);
        await events.ExpectAsync("snapshot", timeout.Token);

        registry.Fail("b", 3);
        JsonElement trip = await events.ExpectAsync("transition", timeout.Token);
        JsonElement diff = await events.ExpectAsync("diff", timeout.Token);

        Assert.Equal("b", trip.GetProperty("circuit").GetString());
        Assert.Equal("Closed", trip.GetProperty("from").GetString());
        Assert.Equal("Open", trip.GetProperty("to").GetString());
        Assert.Equal(TestBreakers.Start, trip.GetProperty("at").GetDateTimeOffset());
        Assert.Equal("System.TimeoutException", trip.GetProperty("cause").GetString());
        Assert.False(trip.TryGetProperty("droppedTransitions", out _));
        Assert.Equal(2, diff.GetProperty("seq").GetInt64());
        JsonElement changed = Assert.Single(diff.GetProperty("changed").EnumerateArray());
        Assert.Equal("b", changed.GetProperty("name").GetString());
        Assert.Equal("Open", changed.GetProperty("state").GetString());
        Assert.Equal(["b", "a"], diff.GetProperty("order").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal(1, diff.GetProperty("totals").GetProperty("open").GetInt32());
        Assert.False(diff.TryGetProperty("removed", out _));
        Assert.False(diff.TryGetProperty("view", out _)); // same page, same page count
    }

    [Fact]
    public async Task Events_DashboardClockTicks_SendsOnlyWhatChangedEachInterval()
    {
        FakeTimeProvider clock = TestBreakers.Clock();
        CircuitBreakerRegistry registry = TestBreakers.Registry(clock, o => { o.FailureThreshold = 3; o.RecoveryTimeout = TimeSpan.FromSeconds(30); });
        registry.Succeed("a");
        registry.Succeed("b");
        await using DashboardServer server = await StartAsync(registry, clock, TimeSpan.FromSeconds(5));
        using CancellationTokenSource timeout = Eventually.Deadline();
        await using SseClient events = await SseClient.ConnectAsync(server.Client, "tripswitch/events", timeout.Token);
        await events.ExpectAsync("snapshot", timeout.Token);

        clock.Advance(TimeSpan.FromSeconds(5));
        SseEvent? idle = await events.ReadEventAsync(timeout.Token);
        registry.Succeed("b", 2);
        clock.Advance(TimeSpan.FromSeconds(5));
        JsonElement busy = await events.ExpectAsync("diff", timeout.Token);

        Assert.NotNull(idle);
        Assert.Equal("diff", idle.Name);
        Assert.Equal("2", idle.Id);
        Assert.Equal(
            ["seq", "generatedAt"], // nothing changed: only "still alive"
            idle.Json.EnumerateObject().Select(p => p.Name));
        Assert.Equal(TestBreakers.Start.AddSeconds(5), idle.Json.GetProperty("generatedAt").GetDateTimeOffset());
        Assert.Equal(3, busy.GetProperty("seq").GetInt64());
        JsonElement b = Assert.Single(busy.GetProperty("changed").EnumerateArray());
        Assert.Equal("b", b.GetProperty("name").GetString());
        Assert.Equal(3, b.GetProperty("successful").GetInt64());
        Assert.False(busy.TryGetProperty("totals", out _)); // no state changed
        Assert.False(busy.TryGetProperty("order", out _));
    }

    [Fact]
    public async Task Events_FilterStateAndPage_SendOnlyThatPageAndTheTotals()
    {
        FakeTimeProvider clock = TestBreakers.Clock();
        CircuitBreakerRegistry registry = TestBreakers.Registry(clock, o => { o.FailureThreshold = 1; o.RecoveryTimeout = TimeSpan.FromSeconds(30); });
        for (int i = 0; i < 30; i++)
        {
            registry.Succeed($"svc-{i:D2}");
            registry.Succeed($"other-{i:D2}");
        }

        registry.Fail("svc-07");
        registry.Fail("svc-21");
        await using DashboardServer server = await StartAsync(registry, clock);
        using CancellationTokenSource timeout = Eventually.Deadline();

        await using SseClient events = await SseClient.ConnectAsync(server.Client, "tripswitch/events?q=SVC&pageSize=4&page=2", timeout.Token);
        JsonElement snapshot = await events.ExpectAsync("snapshot", timeout.Token);
        await using SseClient open = await SseClient.ConnectAsync(server.Client, "tripswitch/events?state=open&sort=name", timeout.Token);
        JsonElement openSnapshot = await open.ExpectAsync("snapshot", timeout.Token);
        await using SseClient past = await SseClient.ConnectAsync(server.Client, "tripswitch/events?q=svc&pageSize=10&page=99", timeout.Token);
        JsonElement pastSnapshot = await past.ExpectAsync("snapshot", timeout.Token);

        // Page 2 of 4 rows, open first: svc-07, svc-21, svc-00, svc-01 | svc-02 ...
        Assert.Equal(["svc-02", "svc-03", "svc-04", "svc-05"], Names(snapshot));
        Assert.Equal(2, snapshot.GetProperty("view").GetProperty("page").GetInt32());
        Assert.Equal(8, snapshot.GetProperty("view").GetProperty("pages").GetInt32());
        Assert.Equal("SVC", snapshot.GetProperty("view").GetProperty("filter").GetString());
        Assert.Equal(60, snapshot.GetProperty("totals").GetProperty("circuits").GetInt32());
        Assert.Equal(30, snapshot.GetProperty("totals").GetProperty("matching").GetInt32());
        Assert.Equal(["svc-07", "svc-21"], Names(openSnapshot));
        Assert.Equal("Open", openSnapshot.GetProperty("view").GetProperty("state").GetString());
        Assert.Equal(2, openSnapshot.GetProperty("totals").GetProperty("matching").GetInt32());
        Assert.Equal(3, pastSnapshot.GetProperty("view").GetProperty("page").GetInt32()); // the last page
        Assert.Equal(["svc-26", "svc-27", "svc-28", "svc-29"], Names(pastSnapshot).TakeLast(4));
    }

    [Theory]
    [InlineData("pageSize=0", "The query parameter 'pageSize' must be a whole number from 1 to 500; it was '0'.")]
    [InlineData("page=-1", "The query parameter 'page' must be a whole number from 1 to 2147483647; it was '-1'.")]
    [InlineData("state=Broken", "The query parameter 'state' must be one of Closed, Open, HalfOpen, Isolated (or empty for every state); it was 'Broken'.")]
    [InlineData("sort=random", "The query parameter 'sort' must be one of state, name, failed; it was 'random'.")]
    [InlineData("page=1&page=2", "The query parameter 'page' is given 2 times; give it once.")]
    [InlineData("limit=5", "Unknown query parameter 'limit'; the event stream takes q, state, sort, page and pageSize.")]
    public async Task Events_BadQuery_Is400NamingTheParameterAndWhatIsValid(string query, string message)
    {
        CircuitBreakerRegistry registry = TestBreakers.Registry(TestBreakers.Clock(), o => { o.FailureThreshold = 3; o.RecoveryTimeout = TimeSpan.FromSeconds(30); });
        await using DashboardServer server = await StartAsync(registry, TestBreakers.Clock());

        using HttpResponseMessage response = await server.Client.GetAsync("tripswitch/events?" + query, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(message, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
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
        Assert.Equal(1, DashboardSubscriptions(registry)); // the stream listens to the registry's transitions
        await events.DisposeAsync(); // the browser tab closes
        StreamEndReason reason = await ended.Task.WaitAsync(timeout.Token);

        Assert.Equal(StreamEndReason.ClientDisconnected, reason);
        Assert.Equal(0, DashboardSubscriptions(registry)); // and released that subscription: the registry holds nothing of it
        Assert.Empty(EventSubscribers.Of(registry, nameof(CircuitBreakerRegistry.StateChanged)));
        Assert.Equal(0, feed.ActiveStreams);
    }

    [Fact]
    public async Task Events_CircuitLeavesTheFilteredPageAndComesBack_IsRemovedThenReaddedInItsPlace()
    {
        FakeTimeProvider clock = TestBreakers.Clock();
        CircuitBreakerRegistry registry = TestBreakers.Registry(clock, o => { o.FailureThreshold = 3; o.RecoveryTimeout = TimeSpan.FromSeconds(30); });
        registry.Succeed("a");
        registry.Succeed("b");
        registry.Succeed("c");
        await using DashboardServer server = await StartAsync(registry, clock);
        using CancellationTokenSource timeout = Eventually.Deadline();
        await using SseClient events = await SseClient.ConnectAsync(server.Client, "tripswitch/events?state=closed", timeout.Token);
        JsonElement snapshot = await events.ExpectAsync("snapshot", timeout.Token);
        Assert.Equal(["a", "b", "c"], snapshot.GetProperty("circuits").EnumerateArray().Select(c => c.GetProperty("name").GetString()));

        // b trips: it leaves the page of closed circuits.
        registry.Fail("b", 3);
        await events.ExpectAsync("transition", timeout.Token);
        JsonElement left = await events.ExpectAsync("diff", timeout.Token);
        Assert.Equal(["b"], left.GetProperty("removed").EnumerateArray().Select(n => n.GetString()));
        Assert.False(left.TryGetProperty("changed", out _));
        Assert.Equal(2, left.GetProperty("totals").GetProperty("matching").GetInt32());

        // An operator resets it: it is closed again, back on the page between a and c, with what it counts now.
        registry.Get("b").Reset();
        await events.ExpectAsync("transition", timeout.Token);
        JsonElement back = await events.ExpectAsync("diff", timeout.Token);
        JsonElement row = Assert.Single(back.GetProperty("changed").EnumerateArray());
        Assert.Equal("b", row.GetProperty("name").GetString());
        Assert.Equal("Closed", row.GetProperty("state").GetString());
        Assert.Equal(3, row.GetProperty("failed").GetInt64());
        Assert.Equal(["a", "b", "c"], back.GetProperty("order").EnumerateArray().Select(n => n.GetString()));
        Assert.False(back.TryGetProperty("removed", out _));
        Assert.Equal(3, back.GetProperty("totals").GetProperty("matching").GetInt32());

        // The client's page is whole again: the next periodic diff has nothing to change.
        clock.Advance(TimeSpan.FromSeconds(1));
        JsonElement tick = await events.ExpectAsync("diff", timeout.Token);
        Assert.False(tick.TryGetProperty("changed", out _));
        Assert.False(tick.TryGetProperty("removed", out _));
        Assert.False(tick.TryGetProperty("order", out _));
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
        Assert.Equal(1, DashboardSubscriptions(registry));

        Task stopping = server.App.StopAsync(timeout.Token);
        SseEvent? afterStop = await events.ReadEventAsync(timeout.Token);
        await stopping;

        Assert.Null(afterStop); // a clean end of the response, not a reset connection
        Assert.Equal(StreamEndReason.ApplicationStopping, await ended.Task.WaitAsync(timeout.Token));
        Assert.Equal(0, DashboardSubscriptions(registry));
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

        long sent = 0, dropped = 0, seq = 1;
        JsonElement last = default;
        while (sent + dropped < Transitions)
        {
            SseEvent? next = await events.ReadEventAsync(timeout.Token);
            Assert.NotNull(next);
            if (next.Name == "diff")
            {
                Assert.Equal(++seq, next.Json.GetProperty("seq").GetInt64()); // no gap: every diff made is sent
                dropped += next.Json.TryGetProperty("droppedTransitions", out JsonElement dd) ? dd.GetInt64() : 0;
                continue;
            }

            last = next.Json;
            sent++;
            dropped += last.TryGetProperty("droppedTransitions", out JsonElement d) ? d.GetInt64() : 0;
        }

        Assert.Equal(Transitions, sent + dropped);
        Assert.Equal("Closed", last.GetProperty("to").GetString()); // the newest is never the one dropped
        Assert.Equal("Isolated", last.GetProperty("from").GetString());
    }

    private static string?[] Names(JsonElement snapshot) => [.. snapshot.GetProperty("circuits").EnumerateArray().Select(c => c.GetProperty("name").GetString())];

    /// <summary>How many handlers of the dashboard are subscribed to the registry's transitions (one per open stream).</summary>
    private static int DashboardSubscriptions(CircuitBreakerRegistry registry)
        => EventSubscribers.CountFrom(registry, nameof(CircuitBreakerRegistry.StateChanged), typeof(DashboardFeed).Assembly);

    private static Task<DashboardServer> StartAsync(CircuitBreakerRegistry registry, TimeProvider clock, TimeSpan? interval = null)
        => DashboardServer.StartAsync(map: app => app.MapTripswitchDashboard("/tripswitch", o =>
        {
            o.Registry = registry;
            o.TimeProvider = clock;
            o.SnapshotInterval = interval ?? TimeSpan.FromSeconds(1);
        }));
}
