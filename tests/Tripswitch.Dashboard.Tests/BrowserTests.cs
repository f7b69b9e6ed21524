using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;
using Tripswitch.Dashboard.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Tripswitch.Dashboard.Tests;

/// <summary>
/// The page in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright's bundled driver; no browser
/// download). The dashboard's clock is fake, so the page gets a periodic diff only when the test advances it: the row
/// that turns open does so from what the server pushes after the transition.
/// </summary>
public partial class BrowserTests
{
    // What Chromium needs on this closed network: no sandbox (root), no GPU, and no background connections.
    /// <summary>How long a pushed change may take to show: the kit's generous bound (a wait on the event, not a limit).</summary>
    private static readonly float LiveBound = (float)Eventually.Timeout.TotalMilliseconds;

    private static readonly string[] ChromiumFlags =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    [Fact]
    public async Task Page_CircuitTripsOnServer_RowTurnsOpenWithinTwoSecondsWithoutReload()
    {
        string chromium = IntegrationRequirement.Chromium();
        FakeTimeProvider clock = TestBreakers.Clock();
        var registry = new CircuitBreakerRegistry(new CircuitBreakerRegistryOptions
        {
            Defaults = new CircuitBreakerOptions { FailureThreshold = 5, RecoveryTimeout = TimeSpan.FromSeconds(60), TimeProvider = clock },
        }
            .Configure("anthropic/claude-sonnet-4", o => o.RecoveryTimeout = TimeSpan.FromSeconds(45))
            .Configure("azure/gpt-4o-mini", o => o.RecoveryTimeout = TimeSpan.FromSeconds(5)));
        await using DashboardServer server = await DashboardServer.StartAsync(map: app => app.MapTripswitchDashboard(
            "/tripswitch",
            o => { o.Registry = registry; o.TimeProvider = clock; }));
        string origin = server.BaseAddress.GetLeftPart(UriPartial.Authority);
        Scene scene = new(registry);
        scene.Step(0);

        using IPlaywright playwright = await Playwright.CreateAsync();
        await using IBrowser browser = await LaunchAsync(playwright, chromium);
        IPage page = await NewPageAsync(browser);
        var requests = new List<string>();
        var errors = new List<string>();
        int loads = 0;
        page.Request += (_, request) => { lock (requests) { requests.Add(request.Url); } };
        page.Console += (_, message) => { if (message.Type == "error") { lock (errors) { errors.Add(message.Text); } } };
        page.PageError += (_, error) => { lock (errors) { errors.Add(error); } };
        page.Load += (_, _) => Interlocked.Increment(ref loads);

        await page.GotoAsync(server.BaseAddress + "tripswitch");

        ILocator rows = page.Locator("#circuits tr[data-circuit]");
        await Expect(rows).ToHaveCountAsync(Scene.Names.Length);
        await Expect(page.Locator("#conn")).ToHaveAttributeAsync("data-status", "live");
        Assert.Equal(Scene.Names.Order(StringComparer.Ordinal), await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.circuit)"));

        // Traffic between updates, so each sparkline has a history computed in the page.
        for (int step = 1; step <= Scene.Steps; step++)
        {
            scene.Step(step);
            clock.Advance(TimeSpan.FromSeconds(1));
            await Expect(page.Locator("body")).ToHaveAttributeAsync("data-generated-at", Json(clock.GetUtcNow()));
        }

        ILocator target = page.Locator("tr[data-circuit='openai/gpt-4.1']");
        await Expect(target).ToHaveAttributeAsync("data-state", "Closed");
        await Expect(page.Locator("tr[data-circuit='anthropic/claude-sonnet-4']")).ToHaveAttributeAsync("data-state", "Open");
        await Expect(page.Locator("tr[data-circuit='azure/gpt-4o-mini']")).ToHaveAttributeAsync("data-state", "HalfOpen");
        await Expect(page.Locator("tr[data-circuit='payments-api']")).ToHaveAttributeAsync("data-state", "Isolated");
        await Expect(page.Locator("tr[data-circuit='payments-api'] td").Nth(11)).ToHaveTextAsync("until reset");
        Assert.True(await target.Locator("svg.spark path.line").GetAttributeAsync("d") is { Length: > 0 });

        // Trip it on the server: the pushed transition turns the row open without a reload (a marker set in this
        // document survives) and without a snapshot (the fake clock doesn't move). How fast is not a test's business:
        // the wait is the kit's generous bound, so a loaded machine can't fail it.
        await page.EvaluateAsync("() => { window.sameDocument = true; }");
        registry.Fail("openai/gpt-4.1", 5);
        await Expect(target).ToHaveAttributeAsync("data-state", "Open", new LocatorAssertionsToHaveAttributeOptions { Timeout = LiveBound });
        await Expect(target.Locator(".pill")).ToHaveTextAsync("open", new LocatorAssertionsToHaveTextOptions { Timeout = LiveBound });
        Assert.True(await page.EvaluateAsync<bool>("() => window.sameDocument === true"), "the page was reloaded");
        await Expect(page.Locator("#count-Open")).ToHaveTextAsync("2");
        await Expect(page.Locator("#log li").First).ToContainTextAsync("openai/gpt-4.1");
        await Expect(page.Locator("#circuits tr[data-circuit]").First).ToHaveAttributeAsync("data-circuit", "anthropic/claude-sonnet-4"); // open first, by name
        await Expect(rows.Nth(1)).ToHaveAttributeAsync("data-circuit", "openai/gpt-4.1");

        // One more snapshot brings the counts and a sparkline spike; then the picture for the README.
        clock.Advance(TimeSpan.FromSeconds(1));
        await Expect(target.Locator("td").Nth(6)).ToHaveTextAsync(scene.Failed("openai/gpt-4.1").ToString("N0", System.Globalization.CultureInfo.GetCultureInfo("en-GB")));
        await Expect(page.Locator("tr.flash")).ToHaveCountAsync(0); // the row's highlight has faded
        string directory = Path.Combine(AppContext.BaseDirectory, "TestResults");
        Directory.CreateDirectory(directory);
        string screenshot = Path.Combine(directory, "dashboard.png");
        byte[] png = await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        TestContext.Current.AddAttachment("dashboard.png", png, "image/png");
        TestContext.Current.SendDiagnosticMessage($"Dashboard screenshot: {screenshot}");

        Assert.Equal(1, loads);
        lock (errors)
        {
            Assert.Empty(errors); // a Content-Security-Policy violation would show here
        }

        lock (requests)
        {
            Assert.All(requests, url => Assert.StartsWith(origin + "/tripswitch", url, StringComparison.Ordinal));
            Assert.Contains(origin + "/tripswitch/events", requests);
        }
    }

    private static async Task<IBrowser> LaunchAsync(IPlaywright playwright, string chromium) => await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = chromium,
        Headless = true,
        Args = ChromiumFlags,
        Timeout = 20_000,
    });

    private static Task<IPage> NewPageAsync(IBrowser browser) => browser.NewPageAsync(new BrowserNewPageOptions
    {
        ViewportSize = new ViewportSize { Width = 1440, Height = 820 },
        ColorScheme = ColorScheme.Dark,
        TimezoneId = "UTC",
        Locale = "en-GB",
    });

    /// <summary>A time as the stream's JSON writes it.</summary>
    private static string Json(DateTimeOffset time) => JsonSerializer.Serialize(time).Trim('"');

    /// <summary>Deterministic traffic for five circuits over a few updates.</summary>
    private sealed class Scene(CircuitBreakerRegistry registry)
    {
        public const int Steps = 40;

        public static readonly string[] Names = ["openai/gpt-4.1", "anthropic/claude-sonnet-4", "azure/gpt-4o-mini", "search/bing-web", "payments-api"];


        public long Failed(string name) => registry.Get(name).GetSummary().Failed;

        public void Step(int step)
        {
            // A wavy failure rate, at most 9 in 20 calls and never two failures in a row: it stays closed until tripped.
            Spread("openai/gpt-4.1", calls: 20, failures: (int)Math.Round(3 + (3 * Math.Sin(step / 2.5)) + (step % 7 == 3 ? 3 : 0)));
            Spread("search/bing-web", calls: 12, failures: step % 9 == 4 ? 1 : 0);
            if (step == 0)
            {
                registry.Get("payments-api");
            }

            if (step == 3)
            {
                registry.Get("payments-api").Isolate(); // an operator took it out
            }

            // claude degrades, then trips at step 24 and stays open (45 s).
            Spread("anthropic/claude-sonnet-4", calls: 10, failures: step < 20 ? step % 5 == 0 ? 1 : 0 : step < 24 ? step - 18 : 10);
            // gpt-4o-mini trips at step 30; its 5 s open period is over by the end, so it is probing (half-open).
            Spread("azure/gpt-4o-mini", calls: 8, failures: step < 30 ? step % 4 == 0 ? 1 : 0 : step == 30 ? 8 : 0);
        }

        private void Spread(string name, int calls, int failures)
        {
            CircuitBreaker breaker = registry.Get(name);
            if (breaker.State is CircuitState.HalfOpen)
            {
                return; // leave the probe slot alone: the picture shows it probing
            }

            for (int i = 0; i < calls; i++)
            {
                bool fail = failures >= calls || (failures > 0 && i % (calls / failures) == 0 && i / (calls / failures) < failures);
                try
                {
                    breaker.Execute(() => fail ? throw new HttpRequestException("503 Service Unavailable") : 0);
                }
                catch (HttpRequestException)
                {
                }
                catch (CircuitOpenException)
                {
                }
            }
        }
    }
}
