using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Playwright;
using Tripswitch.Dashboard.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Tripswitch.Dashboard.Tests;

public partial class BrowserTests
{
    /// <summary>
    /// Loses the <c>diff</c> event with seq 3 once, before the page sees it (as a client that missed one would), by
    /// wrapping the browser's EventSource.
    /// </summary>
    private const string LoseThirdDiff = """
        (() => {
          const Native = window.EventSource;
          let lost = false;
          window.EventSource = class extends Native {
            addEventListener(type, listener, options) {
              if (type !== 'diff') return super.addEventListener(type, listener, options);
              return super.addEventListener(type, (e) => {
                if (!lost && JSON.parse(e.data).seq === 3) { lost = true; document.documentElement.dataset.lost = 'diff 3'; return; }
                listener(e);
              }, options);
            }
          };
        })();
        """;

    [Fact]
    public async Task Page_MissesADiff_ResyncsFromANewSnapshot()
    {
        string chromium = IntegrationRequirement.Chromium();
        FakeTimeProvider clock = TestBreakers.Clock();
        CircuitBreakerRegistry registry = TestBreakers.Registry(clock, o => { o.FailureThreshold = 3; o.RecoveryTimeout = TimeSpan.FromSeconds(30); });
        registry.Succeed("a");
        registry.Succeed("b");
        await using DashboardServer server = await DashboardServer.StartAsync(map: app => app.MapTripswitchDashboard(
            "/tripswitch",
            o => { o.Registry = registry; o.TimeProvider = clock; }));
        using IPlaywright playwright = await Playwright.CreateAsync();
        await using IBrowser browser = await LaunchAsync(playwright, chromium);
        IPage page = await NewPageAsync(browser);
        await page.AddInitScriptAsync(LoseThirdDiff);
        int streams = 0;
        page.Request += (_, request) => { if (request.Url.Contains("/tripswitch/events", StringComparison.Ordinal)) { Interlocked.Increment(ref streams); } };
        ILocator body = page.Locator("body");
        ILocator calls = page.Locator("tr[data-circuit='a'] td").Nth(4);

        await page.GotoAsync(server.BaseAddress + "tripswitch");
        await Expect(body).ToHaveAttributeAsync("data-seq", "1");
        clock.Advance(TimeSpan.FromSeconds(1));
        await Expect(body).ToHaveAttributeAsync("data-seq", "2");
        registry.Succeed("a", 4); // its new count travels in diff 3 only, which the page loses
        clock.Advance(TimeSpan.FromSeconds(1));
        await Expect(page.Locator("html")).ToHaveAttributeAsync("data-lost", "diff 3");
        await Expect(calls).ToHaveTextAsync("1");
        clock.Advance(TimeSpan.FromSeconds(1)); // diff 4: a gap, so the page starts again from a snapshot

        await Expect(calls).ToHaveTextAsync("5");
        await Expect(body).ToHaveAttributeAsync("data-seq", "1");
        Assert.Equal(2, Volatile.Read(ref streams));
        await Expect(page.Locator("#conn")).ToHaveAttributeAsync("data-status", "live");
    }
}
