using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.Dashboard.Tests.Infrastructure;

namespace Tripswitch.Dashboard.Tests;

/// <summary>
/// Bytes per second one open page costs, counted on the event stream of a real Kestrel server over
/// <see cref="Seconds"/> snapshot intervals of 1 s each (a fake clock, so the count is exact and the run is quick).
/// Writes the table to <c>TestResults/dashboard-bandwidth.md</c> next to the test binary; bench/results/dashboard-bandwidth.md
/// holds a committed run and the command.
/// </summary>
public class BandwidthTests
{
    private const int CircuitCount = 10_000;
    private const int Seconds = 60;
    private const double BudgetBytesPerSecond = 10 * 1024;

    [Fact]
    public async Task Events_TenThousandIdleCircuits_CostAPageAtMostTenKilobytesPerSecond()
    {
        FakeTimeProvider clock = TestBreakers.Clock();
        CircuitBreakerRegistry registry = Registry(clock);
        await using DashboardServer server = await StartAsync(registry, clock);
        long everyCircuit = (await server.Client.GetByteArrayAsync("tripswitch/status", TestContext.Current.CancellationToken)).Length;

        (long snapshot, double idle) = await MeasureAsync(server, clock, everySecond: null);
        (_, double busyPage) = await MeasureAsync(server, clock, everySecond: () => CallEveryCircuit(registry));

        var table = new StringBuilder()
            .AppendLine("| what | bytes |")
            .AppendLine("| --- | ---: |")
            .AppendLine(Row("every circuit as one JSON document (`/status`; the old stream sent about this every second)", everyCircuit))
            .AppendLine(Row("the stream's first event: the snapshot of one page (50 rows) and the totals", snapshot))
            .AppendLine(Row($"per second afterwards, {CircuitCount:N0} idle circuits (mean over {Seconds} s)", idle))
            .AppendLine(Row($"per second afterwards, every one of the {CircuitCount:N0} circuits called every second (mean over {Seconds} s)", busyPage));
        string directory = Path.Combine(AppContext.BaseDirectory, "TestResults");
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "dashboard-bandwidth.md"), table.ToString(), TestContext.Current.CancellationToken);
        TestContext.Current.SendDiagnosticMessage(table.ToString());

        Assert.True(idle <= BudgetBytesPerSecond, $"{idle:N0} B/s with {CircuitCount:N0} idle circuits; the budget is {BudgetBytesPerSecond:N0} B/s.");
        Assert.True(idle > 0, "an idle stream still says it is alive every interval"); // the count measures something
        Assert.True(everyCircuit > 100 * idle, $"the whole registry ({everyCircuit:N0} B) is what the page no longer gets every second ({idle:N0} B/s).");
    }

    /// <summary>Connects, reads the snapshot, then counts the bytes of <see cref="Seconds"/> one-second intervals.</summary>
    private static async Task<(long Snapshot, double BytesPerSecond)> MeasureAsync(DashboardServer server, FakeTimeProvider clock, Action? everySecond)
    {
        // 120 ticks over 10,000 circuits: longer than the usual bound when the machine is busy.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        await using SseClient events = await SseClient.ConnectAsync(server.Client, "tripswitch/events", timeout.Token);
        await events.ExpectAsync("snapshot", timeout.Token);
        long snapshot = events.BytesRead;
        for (int second = 0; second < Seconds; second++)
        {
            everySecond?.Invoke();
            clock.Advance(TimeSpan.FromSeconds(1));
            await events.ExpectAsync("diff", timeout.Token);
        }

        return (snapshot, (events.BytesRead - snapshot) / (double)Seconds);
    }

    private static CircuitBreakerRegistry Registry(TimeProvider clock)
    {
        var registry = new CircuitBreakerRegistry(new CircuitBreakerRegistryOptions
        {
            Defaults = new CircuitBreakerOptions { TimeProvider = clock },
            Capacity = CircuitCount,
        });
        for (int i = 0; i < CircuitCount; i++)
        {
            registry.Get(Name(i));
        }

        return registry;
    }

    private static void CallEveryCircuit(CircuitBreakerRegistry registry)
    {
        for (int i = 0; i < CircuitCount; i++)
        {
            registry.Execute(Name(i), () => 1);
        }
    }

    private static string Name(int i) => string.Create(CultureInfo.InvariantCulture, $"tenant-{i:D5}/openai/gpt-4.1");

    private static string Row(string what, double bytes) => string.Create(CultureInfo.InvariantCulture, $"| {what} | {bytes:N0} |");

    private static Task<DashboardServer> StartAsync(CircuitBreakerRegistry registry, TimeProvider clock)
        => DashboardServer.StartAsync(map: app => app.MapTripswitchDashboard("/tripswitch", o =>
        {
            o.Registry = registry;
            o.TimeProvider = clock;
        }));
}
