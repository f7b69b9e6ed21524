using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Tripswitch.FakeLlm;
using Tripswitch.Gateway.Tests.Infrastructure;
using Tripswitch.Testing;
using Xunit;

namespace Tripswitch.Gateway.Tests.Forwarding;

/// <summary>
/// What the gateway counts against a circuit, and what the client gets when circuits are open: the caller's own leaving
/// and the caller's own mistakes (4xx other than 408/429) are never the upstream's failure; a 503 promises the soonest
/// wait of the refusing circuits; an upstream error is never held back when no fallback could answer instead.
/// </summary>
public sealed class OutcomeRulesTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static StringContent Chat(string model, bool stream = false)
        => new($$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"messages":[]}""", Encoding.UTF8, "application/json");

    [Fact]
    public async Task ClientThatLeavesMidStream_AfterTheHeaders_IsNoFailure_AndTheCircuitStaysClosed()
    {
        await using ScriptedServer upstream = await ScriptedServer.StartAsync();
        upstream.RespondWith(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: {\"first\":true}\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(Timeout.InfiniteTimeSpan, context.RequestAborted); // the rest never comes: the client leaves first
        });
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(upstreamOverride: new Uri(upstream.BaseAddress, "v1"));
        CircuitBreaker circuit = gateway.Registry.Get("fake/gpt-4o-mini");
        const int Leaves = 3; // more than the failure threshold (2)

        for (int i = 1; i <= Leaves; i++)
        {
            using HttpClient client = gateway.HttpClient();
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Chat("gpt-4o-mini", stream: true) };
            using (HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Token))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Token));
                Assert.Equal("data: {\"first\":true}", await reader.ReadLineAsync(Token));
            } // the client goes away with the stream still open

            int expected = i;
            await Eventually.True(
                () => circuit.GetSummary() is var s && s.Successful + s.Failed + s.Ignored >= expected,
                $"the outcome of abandoned stream {i} to be recorded");
        }

        CircuitSummary summary = circuit.GetSummary();
        Assert.Equal((CircuitState.Closed, 0, 0, Leaves), (summary.State, summary.Failed, summary.ConsecutiveFailures, summary.Ignored));
    }

    [Theory]
    [InlineData(400, false)]
    [InlineData(401, false)]
    [InlineData(403, false)]
    [InlineData(404, false)]
    [InlineData(422, false)]
    [InlineData(408, true)]
    [InlineData(429, true)]
    public async Task Upstream4xx_CountsOnlyWhenItIsTheUpstreamsTrouble(int status, bool failure)
    {
        await using GatewayHarness gateway = await GatewayHarness.StartAsync();
        CircuitBreaker circuit = gateway.Registry.Get("fake/gpt-4o-mini");
        using HttpClient client = gateway.HttpClient();
        const int Calls = 3; // more than the failure threshold (2)

        for (int i = 0; i < Calls; i++)
        {
            gateway.Upstream.Model("gpt-4o-mini").Enqueue(FakeLlmBehavior.Error(status));
            using HttpResponseMessage response = await client.PostAsync("v1/chat/completions", Chat("gpt-4o-mini"), Token);
            if (!failure || i < 2)
            {
                Assert.Equal(status, (int)response.StatusCode); // the upstream's own answer, passed through
            }
        }

        CircuitSummary summary = circuit.GetSummary();
        if (failure)
        {
            Assert.Equal(2, summary.Failed); // the third call was refused: the circuit opened at the threshold
            Assert.Equal(CircuitState.Open, summary.State);
        }
        else
        {
            Assert.Equal((0, 0, CircuitState.Closed), (summary.Failed, summary.ConsecutiveFailures, summary.State));
            Assert.Equal(Calls, gateway.Upstream.Model("gpt-4o-mini").Requests);
        }
    }

    [Fact]
    public async Task AllCandidatesOpen_The503PromisesTheSoonestWait_NotTheFirstNorTheLast()
    {
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(ThreeModelChain);
        // RecoveryTimeout is 30 s. Opened at 0 s, 5 s and 20 s, at 20 s their waits are 10 s, 15 s and 30 s: the
        // soonest is the middle candidate's, neither the first (30) nor the last (15).
        Open(gateway, "fake/mid");
        gateway.Time.Advance(TimeSpan.FromSeconds(5));
        Open(gateway, "fake/small");
        gateway.Time.Advance(TimeSpan.FromSeconds(15));
        Open(gateway, "fake/big");
        using HttpClient client = gateway.HttpClient();

        using HttpResponseMessage response = await client.PostAsync("v1/chat/completions", Chat("big"), Token);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("10", response.Headers.GetValues("Retry-After").Single());
        Assert.Contains("circuit_open", await response.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        Assert.Equal(0, gateway.Upstream.Model("big").Requests + gateway.Upstream.Model("mid").Requests + gateway.Upstream.Model("small").Requests);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(429)]
    public async Task UpstreamFails_WhileEveryFallbackIsOpen_TheClientGetsTheUpstreamsOwnError(int status)
    {
        await using ScriptedServer upstream = await ScriptedServer.StartAsync();
        const string Body = """{"error":{"message":"the upstream's own words 7f3a","type":"server_error"}}""";
        upstream.RespondWithBody(status, Body, ("Content-Type", "application/json"));
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(ThreeModelChain, new Uri(upstream.BaseAddress, "v1"));
        Open(gateway, "fake/mid");
        Open(gateway, "fake/small");
        using HttpClient client = gateway.HttpClient();

        using HttpResponseMessage response = await client.PostAsync("v1/chat/completions", Chat("big"), Token);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(Body, await response.Content.ReadAsStringAsync(Token));
        Assert.Equal(1, upstream.Requests); // only the primary was tried
        Assert.Equal(1, gateway.Registry.Get("fake/big").GetSummary().Failed);
    }

    private static void ThreeModelChain(Dictionary<string, string?> c)
    {
        c["Gateway:Models:big:Provider"] = "fake";
        c["Gateway:Models:big:Fallbacks:0"] = "mid";
        c["Gateway:Models:big:Fallbacks:1"] = "small";
        c["Gateway:Models:mid:Provider"] = "fake";
        c["Gateway:Models:small:Provider"] = "fake";
    }

    /// <summary>Opens the gateway's circuit <paramref name="name"/> the way failures do (threshold 2).</summary>
    private static void Open(GatewayHarness gateway, string name)
    {
        CircuitBreaker circuit = gateway.Registry.Get(name);
        for (int i = 0; i < 2; i++)
        {
            Assert.Throws<InvalidOperationException>(() => circuit.Execute(() => throw new InvalidOperationException("upstream down")));
        }

        Assert.Equal(CircuitState.Open, circuit.State);
    }
}
