using System.Text.Json;
using Tripswitch.Demo.Tests.Infrastructure;

namespace Tripswitch.Demo.Tests;

/// <summary>The default scenario, shortened, as a child process with <c>--json</c>: everything the demo shows, read from its JSON.</summary>
public sealed class ScenarioJsonTests
{
    [Fact]
    public async Task Json_ShowsCircuitsOpening_FallingBack_HonouringRetryAfter_AndRecovering()
    {
        DemoRun run = await DemoProcess.RunAsync("--json", "--duration", "8", "--seed", "3");

        Assert.True(run.ExitCode == 0, run.ToString());

        // Nothing but the JSON on stdout: the whole of it parses.
        using JsonDocument json = JsonDocument.Parse(run.Stdout);
        JsonElement root = json.RootElement;
        Assert.Equal(3, root.GetProperty("seed").GetInt32());
        Assert.Equal(8, root.GetProperty("durationSeconds").GetDouble());
        Assert.False(root.GetProperty("interrupted").GetBoolean());
        Assert.StartsWith("http://127.0.0.1:", root.GetProperty("server").GetString(), StringComparison.Ordinal);
        Assert.Equal(["healthy", "outage", "rate-limit", "recovery"], root.GetProperty("phases").EnumerateArray().Select(p => p.GetProperty("key").GetString()));

        // The outage opened gpt-4.1's circuit on HTTP 500s, and the rate limit gpt-4.1-mini's on 429s.
        JsonElement[] timeline = [.. root.GetProperty("timeline").EnumerateArray()];
        Assert.Contains(timeline, t => Is(t, "openai/gpt-4.1", "closed", "open") && t.GetProperty("cause").GetString() == "HTTP 500");
        Assert.Contains(timeline, t => Is(t, "openai/gpt-4.1-mini", "closed", "open") && t.GetProperty("cause").GetString() == "HTTP 429");
        Assert.Contains(timeline, t => Is(t, "openai/gpt-4.1", "open", "half-open"));

        // Requests to an open model fell back to another model, which answered.
        JsonElement requests = root.GetProperty("requests");
        Assert.True(requests.GetProperty("fellBack").GetInt64() > 0, run.Stdout);
        JsonElement[] fallbacks = [.. root.GetProperty("fallbacks").EnumerateArray()];
        // The flagship's requests fell back down the chain: to gpt-4.1-mini, or to gpt-4o-mini while gpt-4.1-mini was
        // rate limited too (which of the two depends on how many requests a loaded machine made in each phase).
        JsonElement[] fromFlagship = [.. fallbacks.Where(f => f.GetProperty("from").GetString() == "openai/gpt-4.1")];
        Assert.NotEmpty(fromFlagship);
        Assert.All(fromFlagship, f => Assert.Contains(f.GetProperty("to").GetString(), (string[])["openai/gpt-4.1-mini", "openai/gpt-4o-mini"]));
        Assert.True(fromFlagship.Sum(f => f.GetProperty("count").GetInt32()) > 0);
        Assert.All(fallbacks, f => Assert.Equal($"Hello from {f.GetProperty("to").GetString()!["openai/".Length..]}.", f.GetProperty("sampleAnswer").GetString()));
        Assert.Contains(fallbacks, f => f.GetProperty("from").GetString() == "openai/gpt-4.1-mini" && f.GetProperty("to").GetString() == "openai/gpt-4o-mini");
        Assert.Equal(
            requests.GetProperty("total").GetInt64(),
            requests.GetProperty("answered").GetInt64() + requests.GetProperty("fellBack").GetInt64() + requests.GetProperty("failed").GetInt64() + requests.GetProperty("unavailable").GetInt64());

        // The 429's Retry-After (2 s in an 8 s run) kept the circuit open longer than the recovery timeout (0.67 s).
        JsonElement retryAfter = root.GetProperty("retryAfter");
        Assert.True(retryAfter.GetProperty("honoured").GetBoolean(), retryAfter.ToString());
        double open = retryAfter.GetProperty("openSeconds").GetDouble();
        Assert.True(open >= retryAfter.GetProperty("serverRetryAfterSeconds").GetDouble() - 0.05, retryAfter.ToString());
        Assert.True(open > retryAfter.GetProperty("recoveryTimeoutSeconds").GetDouble(), retryAfter.ToString());

        // Everything recovered: every circuit that opened closed again.
        Assert.True(root.GetProperty("allClosedAtEnd").GetBoolean(), run.Stdout);
        JsonElement[] circuits = [.. root.GetProperty("circuits").EnumerateArray()];
        Assert.Equal(["openai/gpt-4.1", "openai/gpt-4.1-mini", "openai/gpt-4o-mini"], circuits.Select(c => c.GetProperty("name").GetString()));
        foreach (JsonElement circuit in circuits.Take(2))
        {
            Assert.Equal("closed", circuit.GetProperty("state").GetString());
            Assert.True(circuit.GetProperty("opened").GetInt32() >= 1, circuit.ToString());
            Assert.True(circuit.GetProperty("recovered").GetBoolean(), circuit.ToString());
            Assert.True(circuit.GetProperty("rejected").GetInt64() > 0, circuit.ToString());
        }

        Assert.Equal(0, circuits[2].GetProperty("opened").GetInt32());

        // The progress went to stderr, as plain lines.
        Assert.Contains("phase 2/4 Outage", run.Stderr, StringComparison.Ordinal);
    }

    private static bool Is(JsonElement transition, string circuit, string from, string to)
        => transition.GetProperty("circuit").GetString() == circuit
            && transition.GetProperty("from").GetString() == from
            && transition.GetProperty("to").GetString() == to;
}
