using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;
using Tripswitch.Dashboard.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Tripswitch.Dashboard.Tests;

public partial class BrowserTests
{
    private const int ManyCircuits = 10_000;

    [Fact]
    public async Task Page_TenThousandCircuits_FiltersPagesAndShowsATripLive()
    {
        string chromium = IntegrationRequirement.Chromium();
        FakeTimeProvider clock = TestBreakers.Clock();
        var registry = new CircuitBreakerRegistry(new CircuitBreakerRegistryOptions
        {
            Defaults = new CircuitBreakerOptions { FailureThreshold = 3, TimeProvider = clock },
            Capacity = ManyCircuits,
        });
        for (int i = 0; i < ManyCircuits; i++)
        {
            registry.Get(Tenant(i));
        }

        await using DashboardServer server = await DashboardServer.StartAsync(map: app => app.MapTripswitchDashboard(
            "/tripswitch",
            o => { o.Registry = registry; o.TimeProvider = clock; }));
        using IPlaywright playwright = await Playwright.CreateAsync();
        await using IBrowser browser = await LaunchAsync(playwright, chromium);
        IPage page = await NewPageAsync(browser);
        var errors = new List<string>();
        page.PageError += (_, error) => { lock (errors) { errors.Add(error); } };
        ILocator rows = page.Locator("#circuits tr[data-circuit]");
        ILocator pageInfo = page.Locator("#page-info");

        // The first page of 50, by name (all closed), and the totals of all 10,000.
        await page.GotoAsync(server.BaseAddress + "tripswitch");
        await Expect(page.Locator("#conn")).ToHaveAttributeAsync("data-status", "live");
        await Expect(rows).ToHaveCountAsync(50);
        await Expect(rows.First).ToHaveAttributeAsync("data-circuit", Tenant(0));
        await Expect(page.Locator("#count-all")).ToHaveTextAsync(ManyCircuits.ToString("N0", CultureInfo.GetCultureInfo("en-GB")));
        await Expect(pageInfo).ToHaveTextAsync("page 1 of 200");

        // Filter by name on the server: "tenant-0420" matches tenant-04200 … tenant-04209.
        await page.Locator("#filter").FillAsync("TENANT-0420");
        await Expect(page.Locator("#matching")).ToHaveAttributeAsync("data-count", "10");
        await Expect(rows).ToHaveCountAsync(10);
        Assert.Equal(
            Enumerable.Range(4200, 10).Select(Tenant),
            await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.circuit)"));
        await Expect(pageInfo).ToHaveTextAsync("page 1 of 1");

        // Page through the whole registry on the server: page 2, then the last page.
        await page.Locator("#filter").FillAsync(string.Empty);
        await Expect(rows).ToHaveCountAsync(50);
        await page.Locator("#next").ClickAsync();
        await Expect(pageInfo).ToHaveTextAsync("page 2 of 200");
        await Expect(rows.First).ToHaveAttributeAsync("data-circuit", Tenant(50));
        await Expect(rows).ToHaveCountAsync(50);

        // A trip far down the registry: shown live (no clock tick), at the top of the page, open first.
        await page.Locator("#prev").ClickAsync();
        await Expect(rows.First).ToHaveAttributeAsync("data-circuit", Tenant(0));
        // Live means pushed: the same document (no reload) and no snapshot tick; not a time limit, which a loaded
        // machine rebuilding a 10,000-circuit page could miss.
        await page.EvaluateAsync("() => { window.sameDocument = true; }");
        registry.Fail(Tenant(7777), 3);
        ILocator tripped = page.Locator($"tr[data-circuit='{Tenant(7777)}']");
        await Expect(tripped).ToHaveAttributeAsync("data-state", "Open", new LocatorAssertionsToHaveAttributeOptions { Timeout = LiveBound });
        Assert.True(await page.EvaluateAsync<bool>("() => window.sameDocument === true"), "the page was reloaded");
        await Expect(rows.First).ToHaveAttributeAsync("data-circuit", Tenant(7777));
        await Expect(rows).ToHaveCountAsync(50); // still one page: the last row of page 1 moved to page 2
        await Expect(page.Locator("#count-Open")).ToHaveTextAsync("1");
        await Expect(page.Locator("#log li").First).ToContainTextAsync(Tenant(7777));
        await Expect(tripped.Locator("td").Nth(11)).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^(5\d|60)\.\d s$")); // counting down from the server's retryAt, 60 s after the trip

        // And the state filter: only the open one.
        await page.Locator("#state-filter").SelectOptionAsync("Open");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToHaveAttributeAsync("data-circuit", Tenant(7777));
        lock (errors)
        {
            Assert.Empty(errors);
        }
    }

    private static string Tenant(int i) => string.Create(CultureInfo.InvariantCulture, $"tenant-{i:D5}/openai/gpt-4.1");
}
