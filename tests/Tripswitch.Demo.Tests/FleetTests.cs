using System.Text.Json;
using Tripswitch.Demo.Tests.Infrastructure;
using Tripswitch.Testing.Redis;

namespace Tripswitch.Demo.Tests;

/// <summary><c>--redis … --instances 2</c>: two demo processes share their circuits through a real redis-server.</summary>
public sealed class FleetTests
{
    [Fact]
    public async Task TwoInstances_OneTripOpensTheCircuitInBoth()
    {
        await using RedisServer redis = await RedisServer.StartNewAsync();

        DemoRun run = await DemoProcess.RunAsync("--redis", redis.Configuration, "--instances", "2", "--json", "--duration", "8");

        Assert.True(run.ExitCode == 0, run.ToString());
        using JsonDocument json = JsonDocument.Parse(run.Stdout);
        JsonElement fleet = json.RootElement.GetProperty("fleet");
        Assert.Equal(redis.Configuration, fleet.GetProperty("redis").GetString());
        Assert.StartsWith("tripswitch-demo:", fleet.GetProperty("keyPrefix").GetString(), StringComparison.Ordinal);

        JsonElement[] instances = [.. fleet.GetProperty("instances").EnumerateArray()];
        Assert.Equal([1, 2], instances.Select(i => i.GetProperty("instance").GetInt32()));
        Assert.True(instances[0].GetProperty("origin").GetBoolean());
        Assert.Equal(0, instances[1].GetProperty("exitCode").GetInt32());
        Assert.True(instances[1].GetProperty("requests").GetInt64() > 0, fleet.ToString());

        // Instance 1's own failures tripped openai/gpt-4.1; instance 2, whose FakeLlm never failed, saw it open through Redis.
        JsonElement origin = Circuit(instances[0], "openai/gpt-4.1");
        Assert.Equal("own failures", origin.GetProperty("openedBy").GetString());
        Assert.True(origin.GetProperty("failuresBeforeOpen").GetInt64() >= 3, origin.ToString());
        JsonElement member = Circuit(instances[1], "openai/gpt-4.1");
        Assert.Equal("fleet", member.GetProperty("openedBy").GetString());
        Assert.Equal(0, member.GetProperty("failuresBeforeOpen").GetInt64());
        Assert.True(member.GetProperty("firstOpenAtSeconds").GetDouble() >= origin.GetProperty("firstOpenAtSeconds").GetDouble() - 0.05, fleet.ToString());
        Assert.Equal(0, instances[1].GetProperty("failed").GetInt64()); // it never saw a failure of its own…
        Assert.True(instances[1].GetProperty("fellBack").GetInt64() > 0, fleet.ToString()); // …yet fell back while the fleet's circuit was open

        JsonElement propagation = Assert.Single(fleet.GetProperty("propagation").EnumerateArray(), p => p.GetProperty("circuit").GetString() == "openai/gpt-4.1");
        Assert.True(propagation.GetProperty("seenByAll").GetBoolean(), fleet.ToString());

        // The plain lines on stderr say when each instance saw it open.
        Assert.Contains("instance 2: circuit openai/gpt-4.1: closed → open (from the fleet, after 0 failures of its own)", run.Stderr, StringComparison.Ordinal);
        Assert.Matches(@"instance 2 \(pid \d+\)\s+saw it open at \+\d+\.\d\ds: from the fleet", run.Stderr);
    }

    private static JsonElement Circuit(JsonElement instance, string name)
        => instance.GetProperty("circuits").EnumerateArray().Single(c => c.GetProperty("circuit").GetString() == name);
}
