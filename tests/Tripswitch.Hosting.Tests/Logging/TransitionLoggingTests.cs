using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tripswitch.Hosting.Logging;

namespace Tripswitch.Hosting.Tests.Logging;

public class TransitionLoggingTests
{
    private static async Task<TestHost> StartAsync(Action<TripswitchOptions> configure)
    {
        HostApplicationBuilder builder = TestHost.CreateBuilder();
        builder.Services.AddTripswitch(configure);
        return await TestHost.StartAsync(builder);
    }

    [Fact]
    public async Task StateChanged_OpenHalfOpenClosed_LogsWarningInformationInformationAndRejectionsAtDebug()
    {
        await using TestHost host = await StartAsync(o =>
        {
            o.Defaults.FailureThreshold = 2;
            o.Defaults.RecoveryTimeout = TimeSpan.FromSeconds(30);
            o.Defaults.SuccessThreshold = 1;
            o.Defaults.HalfOpenMaxCalls = 3;
        });
        CircuitBreaker breaker = host.Registry.Get("openai/gpt-4.1");

        Calls.Fail(breaker, 2, message: "429 Too Many Requests");
        Calls.Rejected(breaker, 3);
        host.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Calls.Succeed(breaker);

        LogRecord[] records = [.. host.Logs.TripswitchRecords];
        Assert.Equal(
            [
                ("CircuitOpened", LogLevel.Warning),
                ("CallRejected", LogLevel.Debug), ("CallRejected", LogLevel.Debug), ("CallRejected", LogLevel.Debug),
                ("CircuitHalfOpened", LogLevel.Information), ("CircuitClosed", LogLevel.Information), ("CallsRejected", LogLevel.Debug),
            ],
            records.Select(r => (r.EventId.Name, r.Level)));
        Assert.Equal(
            "Circuit 'openai/gpt-4.1' opened (was Closed); calls are rejected for 00:00:30. Cause: System.InvalidOperationException: 429 Too Many Requests",
            records[0].Message);
        Assert.Null(records[0].Exception); // type and message only: no stack trace
        Assert.Contains(new KeyValuePair<string, string?>("CircuitName", "openai/gpt-4.1"), records[0].State);
        Assert.Equal("Circuit 'openai/gpt-4.1' rejected a call (Open; retry after 00:00:30).", records[1].Message);
        Assert.Equal("Circuit 'openai/gpt-4.1' is half-open (was Open): up to 3 probe call(s) at a time test the dependency.", records[4].Message);
        Assert.Equal("Circuit 'openai/gpt-4.1' closed (was HalfOpen).", records[5].Message);
        Assert.Equal("Circuit 'openai/gpt-4.1' rejected 3 call(s) while it was not closed.", records[6].Message);
    }

    [Fact]
    public async Task StateChanged_ProbeFails_LogsReopenedWithItsNewOpenPeriod()
    {
        await using TestHost host = await StartAsync(o =>
        {
            o.Defaults.FailureThreshold = 1;
            o.Defaults.RecoveryTimeout = TimeSpan.FromSeconds(10);
            o.Defaults.RecoveryBackoffMultiplier = 2;
        });
        CircuitBreaker breaker = host.Registry.Get("a");
        Calls.Fail(breaker);
        host.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.Throws<TimeoutException>(() => breaker.Execute(() => throw new TimeoutException("probe hung")));

        LogRecord reopened = host.Logs.TripswitchRecords.Last(r => r.EventId.Name == "CircuitOpened");
        Assert.Equal(LogLevel.Warning, reopened.Level);
        Assert.Equal("Circuit 'a' opened (was HalfOpen); calls are rejected for 00:00:20. Cause: System.TimeoutException: probe hung", reopened.Message);
    }

    [Fact]
    public async Task StateChanged_FailureWithoutException_LogsOpenedWithoutCause()
    {
        await using TestHost host = await StartAsync(o => o.Defaults.FailureThreshold = 1);
        CircuitBreaker breaker = host.Registry.Get("a");

        breaker.AcquirePermit().RecordFailure();

        LogRecord opened = Assert.Single(host.Logs.TripswitchRecords);
        Assert.Equal(("CircuitOpenedWithoutException", LogLevel.Warning), (opened.EventId.Name, opened.Level));
        Assert.Equal("Circuit 'a' opened (was Closed); calls are rejected for 00:01:00. Cause: its failure rule tripped (no exception).", opened.Message);
    }

    [Fact]
    public async Task StateChanged_CauseWithAResponseBody_LogsTheMessagesHeadOnly()
    {
        // How System.ClientModel (the OpenAI and Azure clients) words a failed call: the body follows a blank line.
        const string Body = "{\"error\":{\"message\":\"echo of the prompt: my card is 4111 1111\"}}";
        await using TestHost host = await StartAsync(o => o.Defaults.FailureThreshold = 1);
        CircuitBreaker breaker = host.Registry.Get("a");

        Calls.Fail(breaker, 1, message: $"Service request failed.\r\nStatus: 500 (Internal Server Error)\r\n\r\nContent:\r\n{Body}\r\n\r\nHeaders:\r\nx-request-id: 1");

        LogRecord opened = Assert.Single(host.Logs.TripswitchRecords);
        Assert.Equal("Circuit 'a' opened (was Closed); calls are rejected for 00:01:00. Cause: System.InvalidOperationException: Service request failed. Status: 500 (Internal Server Error)", opened.Message);
        Assert.DoesNotContain("4111", opened.AllText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("boom", "boom")]
    [InlineData("first\nsecond", "first second")]
    [InlineData("head\n\nbody", "head")]
    [InlineData("head\n   \nbody", "head")]
    [InlineData("head\r\n\r\nbody", "head")]
    [InlineData("\n\nbody only", "")]
    [InlineData("", "")]
    public void ExceptionSummary_KeepsTheHeadBeforeTheFirstBlankLine_OnOneLine(string message, string expected)
        => Assert.Equal(expected, ExceptionSummary.Of(message));

    [Fact]
    public void ExceptionSummary_CapsALongHead()
    {
        string summary = ExceptionSummary.Of(new string('x', 500));

        Assert.Equal(200, summary.Length);
        Assert.EndsWith("x…", summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StateChanged_IsolateAndMetricsOnly_LogWarnings()
    {
        await using TestHost host = await StartAsync(o =>
        {
            o.Defaults.FailureThreshold = 1;
            o.Configure("shadow", c => c.Mode = CircuitBreakerMode.MetricsOnly);
        });

        host.Registry.Get("manual").Isolate();
        Calls.Fail(host.Registry.Get("shadow"));

        LogRecord isolated = Assert.Single(host.Logs.TripswitchRecords, r => r.EventId.Name == "CircuitIsolated");
        Assert.Equal(LogLevel.Warning, isolated.Level);
        Assert.Equal("Circuit 'manual' was isolated (was Closed): every call is rejected until it is reset.", isolated.Message);
        LogRecord shadow = Assert.Single(host.Logs.TripswitchRecords, r => r.EventId.Name == "CircuitWouldHaveOpened");
        Assert.Equal(LogLevel.Warning, shadow.Level);
        Assert.Contains("Circuit 'shadow' would have opened", shadow.Message, StringComparison.Ordinal);
        Assert.Contains("calls still pass", shadow.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StateChanged_MinimumLevelWarning_OnlyOpeningsAreLogged()
    {
        HostApplicationBuilder builder = TestHost.CreateBuilder();
        builder.Services.AddTripswitch(o =>
        {
            o.Defaults.FailureThreshold = 1;
            o.Defaults.SuccessThreshold = 1;
        });
        await using TestHost host = await TestHost.StartAsync(builder, minimumLevel: LogLevel.Warning);

        CircuitBreaker breaker = host.Registry.Get("a");
        Calls.Fail(breaker);
        Calls.Rejected(breaker);
        host.Time.Advance(TimeSpan.FromMinutes(1));
        Calls.Succeed(breaker);

        Assert.Equal(CircuitState.Closed, breaker.State);
        LogRecord only = Assert.Single(host.Logs.TripswitchRecords);
        Assert.Equal(("CircuitOpened", LogLevel.Warning), (only.EventId.Name, only.Level));
    }

    [Fact]
    public async Task HttpFailures_RequestWithSecrets_NoSecretIsLogged()
    {
        const string Secret = "sk-live-TOPSECRET-0123456789";
        await using ScriptedServer upstream = await ScriptedServer.StartAsync();
        upstream.RespondWithBody(429, $"{{\"error\": \"rate limited for key {Secret}\"}}", ("x-request-echo", Secret), ("Retry-After", "40"));
        HostApplicationBuilder builder = TestHost.CreateBuilder();
        builder.Services.AddTripswitch(o =>
        {
            o.Defaults.FailureThreshold = 2;
            o.Defaults.RecoveryTimeout = TimeSpan.FromSeconds(10); // the server's Retry-After (40 s) is longer, so it wins
        });
        builder.Services.AddHttpClient("openai", c => c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Secret))
            .AddCircuitBreakerHandler();
        await using TestHost host = await TestHost.StartAsync(builder);
        HttpClient client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("openai");

        for (int i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(upstream.BaseAddress, $"v1/chat?api_key={Secret}"))
            {
                Content = new StringContent($"{{\"prompt\": \"{Secret}\"}}"),
            };
            request.Headers.Add("x-api-key", Secret);
            using HttpResponseMessage response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        }

        await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync(new Uri(upstream.BaseAddress, $"v1/models?api_key={Secret}"), TestContext.Current.CancellationToken));
        host.Time.Advance(TimeSpan.FromSeconds(40));
        using (HttpResponseMessage probe = await client.GetAsync(new Uri(upstream.BaseAddress, "v1/models"), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, probe.StatusCode);
        }

        LogRecord opened = host.Logs.TripswitchRecords.First(r => r.EventId.Name == "CircuitOpened");
        Assert.Equal(
            $"Circuit '{upstream.AuthorityKey}' opened (was Closed); calls are rejected for 00:00:40. Cause: System.Net.Http.HttpRequestException: Response status code does not indicate success: 429 (Too Many Requests).",
            opened.Message);
        Assert.True(host.Logs.TripswitchRecords.Count >= 3, "open, half-open and reopen are logged");
        Assert.All(host.Logs.TripswitchRecords, r => Assert.DoesNotContain(Secret, r.AllText, StringComparison.Ordinal));
    }
}
