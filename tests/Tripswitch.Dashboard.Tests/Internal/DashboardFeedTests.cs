using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.Dashboard.Internal;
using Tripswitch.Dashboard.Tests.Infrastructure;

namespace Tripswitch.Dashboard.Tests.Internal;

/// <summary>The stream loop against a response body the test holds back: a client that reads too slowly.</summary>
public class DashboardFeedTests
{
    [Fact]
    public async Task StreamAsync_ClientReadsTooSlowly_DropsOldestTransitionsSaysHowManyAndKeepsSendingDiffs()
    {
        FakeTimeProvider clock = TestBreakers.Clock();
        CircuitBreakerRegistry registry = TestBreakers.Registry(clock, o => { o.FailureThreshold = 3; o.RecoveryTimeout = TimeSpan.FromSeconds(30); });
        CircuitBreaker breaker = registry.Get("flapping");
        var feed = new DashboardFeed(registry, clock, new TripswitchDashboardOptions { TransitionBufferCapacity = 3 }, CancellationToken.None);
        var ended = new TaskCompletionSource<StreamEndReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        feed.StreamEnded += reason => ended.TrySetResult(reason);
        using var body = new GatedStream();
        using var aborted = new CancellationTokenSource();
        var context = new DefaultHttpContext { RequestAborted = aborted.Token, RequestServices = new ServiceCollection().BuildServiceProvider() };
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(body));
        using CancellationTokenSource timeout = Eventually.Deadline();

        Task streaming = feed.StreamAsync(context);
        await body.WriteStarted.WaitAsync(timeout.Token); // the first snapshot is stuck: the client reads nothing
        for (int i = 0; i < 5; i++)
        {
            breaker.Isolate(); // 10 transitions: Closed→Isolated, Isolated→Closed, ...
            breaker.Reset();
        }

        clock.Advance(TimeSpan.FromSeconds(1)); // and a snapshot is due
        body.Open();
        string text = await body.WaitForAsync(t => t.EndsWith("\n\n", StringComparison.Ordinal) && Events(t).Any(e => e.Name == "diff"), timeout.Token);
        await aborted.CancelAsync();
        await streaming.WaitAsync(timeout.Token);

        List<SseEvent> events = Events(text);
        Assert.Equal(["snapshot", "transition", "transition", "transition", "diff"], events.Select(e => e.Name));
        JsonElement[] transitions = [.. events.Where(e => e.Name == "transition").Select(e => e.Json)];
        Assert.Equal(7, transitions[0].GetProperty("droppedTransitions").GetInt64()); // 10 transitions, room for 3
        Assert.False(transitions[1].TryGetProperty("droppedTransitions", out _));
        Assert.Equal(
            ["Isolated→Closed", "Closed→Isolated", "Isolated→Closed"], // the newest three
            transitions.Select(t => $"{t.GetProperty("from").GetString()}→{t.GetProperty("to").GetString()}"));
        JsonElement diff = events[^1].Json;
        Assert.Equal(2, diff.GetProperty("seq").GetInt64());
        Assert.Equal(TestBreakers.Start.AddSeconds(1), diff.GetProperty("generatedAt").GetDateTimeOffset());
        Assert.Equal(10, diff.GetProperty("changed")[0].GetProperty("stateChanges").GetInt64());
        Assert.Equal(StreamEndReason.ClientDisconnected, await ended.Task.WaitAsync(timeout.Token));
        Assert.Equal(0, feed.ActiveStreams);
    }

    [Fact]
    public async Task StreamAsync_ApplicationStopping_EndsWithThatReason()
    {
        FakeTimeProvider clock = TestBreakers.Clock();
        using var stopping = new CancellationTokenSource();
        var feed = new DashboardFeed(TestBreakers.Registry(clock, o => { o.FailureThreshold = 3; o.RecoveryTimeout = TimeSpan.FromSeconds(30); }), clock, new TripswitchDashboardOptions(), stopping.Token);
        var ended = new TaskCompletionSource<StreamEndReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        feed.StreamEnded += reason => ended.TrySetResult(reason);
        using var body = new GatedStream();
        body.Open();
        var context = new DefaultHttpContext { RequestServices = new ServiceCollection().BuildServiceProvider() };
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(body));
        using CancellationTokenSource timeout = Eventually.Deadline();

        Task streaming = feed.StreamAsync(context);
        await body.WaitForAsync(t => t.Contains("event: snapshot", StringComparison.Ordinal), timeout.Token);
        Assert.Equal(1, feed.ActiveStreams);
        await stopping.CancelAsync();
        await streaming.WaitAsync(timeout.Token);

        Assert.Equal(StreamEndReason.ApplicationStopping, await ended.Task.WaitAsync(timeout.Token));
        Assert.Equal(0, feed.ActiveStreams);
    }

    private static List<SseEvent> Events(string text)
    {
        var events = new List<SseEvent>();
        foreach (string block in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string[] lines = block.Split('\n');
            string? name = lines.FirstOrDefault(l => l.StartsWith("event: ", StringComparison.Ordinal))?["event: ".Length..];
            string? data = lines.FirstOrDefault(l => l.StartsWith("data: ", StringComparison.Ordinal))?["data: ".Length..];
            if (name is not null && data is not null)
            {
                events.Add(new SseEvent(name, data));
            }
        }

        return events;
    }
}
