using System.Diagnostics;
using System.Threading.Channels;
using Tripswitch.Redis.Tests.Infrastructure;
using Tripswitch.Testing.Redis;
using Tripswitch.Testing;
using Xunit;

namespace Tripswitch.Redis.Tests;

/// <summary>Separate OS processes (tests/Tripswitch.Redis.FleetNode) sharing one circuit through the shared redis-server.</summary>
public sealed class MultiProcessTests(SharedRedis redis)
{
    /// <summary>How long a trip may take to show in another process (the bound is 100 ms; this adds the command round trips).</summary>
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task FailuresInOneProcess_OpenTheCircuitInAnother_AndRecoveryReachesBoth()
    {
        string prefix = Fleet.UniquePrefix();
        string[] args = ["--redis", redis.Server.Configuration, "--circuit", "checkout", "--prefix", prefix, "--failure-threshold", "3", "--recovery-ms", "500", "--success-threshold", "1"];
        await using FleetProcess a = await FleetProcess.StartAsync(args);
        await using FleetProcess b = await FleetProcess.StartAsync(args);
        await WaitSubscribers(prefix, 2);
        Assert.Equal("state Closed", await b.SendAsync("state"));

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("failed", await a.SendAsync("fail"));
        }

        Assert.Equal("state Open", await a.SendAsync("state"));
        long tripped = TimeProvider.System.GetTimestamp();
        await Eventually.True(async () => await b.SendAsync("state") == "state Open", "process B reports Open", Propagation);
        Assert.True(TimeProvider.System.GetElapsedTime(tripped).TotalMilliseconds <= Propagation.TotalMilliseconds);
        Assert.Equal("rejected Open", await b.SendAsync("ok"));
        Assert.Equal("degraded False", await b.SendAsync("degraded"));

        // After the open period, B's probe closes the circuit for both processes.
        await Eventually.True(async () => await b.SendAsync("ok") == "probe-ok", "B runs the fleet's probe");
        Assert.Equal("state Closed", await b.SendAsync("state"));
        await Eventually.True(async () => await a.SendAsync("state") == "state Closed", "process A reports Closed", Propagation);
        Assert.Equal("ok", await a.SendAsync("ok"));

        Assert.Equal(0, await a.QuitAsync());
        Assert.Equal(0, await b.QuitAsync());
    }

    [Fact]
    public async Task AProcessKilledWhileProbing_DoesNotWedgeTheCircuit()
    {
        string prefix = Fleet.UniquePrefix();
        string[] args = ["--redis", redis.Server.Configuration, "--circuit", "inventory", "--prefix", prefix, "--failure-threshold", "2",
            "--recovery-ms", "300", "--success-threshold", "1", "--probe-timeout-ms", "1000"];
        await using FleetProcess a = await FleetProcess.StartAsync(args);
        await using FleetProcess b = await FleetProcess.StartAsync(args);
        await WaitSubscribers(prefix, 2);

        Assert.Equal("failed", await a.SendAsync("fail"));
        Assert.Equal("failed", await a.SendAsync("fail"));
        await Eventually.True(async () => await b.SendAsync("state") != "state Closed", "B tripped", Propagation);

        // A takes the fleet's only probe and dies holding it.
        await Eventually.True(async () => await a.SendAsync("hold-probe") == "probe-held", "A probes");
        a.Kill();

        // B is refused while the dead process's lease lives, then probes and closes the circuit.
        await Eventually.True(async () => await b.SendAsync("ok") == "probe-ok", "B probes after A's lease expired");
        Assert.Equal("state Closed", await b.SendAsync("state"));
        Assert.Equal(0, await b.QuitAsync());
    }

    private async Task WaitSubscribers(string prefix, int count)
        => await Eventually.True(
            async () => (long)(await redis.Admin.ExecuteAsync("PUBSUB", "NUMSUB", prefix + "events"))[1] == count,
            $"{count} processes subscribed");
}

/// <summary>A FleetNode process driven through its stdin/stdout.</summary>
internal sealed class FleetProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(10);
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly System.Text.StringBuilder _errors = new();

    private FleetProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _lines.Writer.TryComplete();
            }
            else
            {
                _lines.Writer.TryWrite(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (_errors)
            {
                _errors.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>FleetNode's build output, copied next to the tests by the test project.</summary>
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "fleetnode", "Tripswitch.Redis.FleetNode.dll");

    public static async Task<FleetProcess> StartAsync(string[] nodeArgs)
    {
        Assert.True(File.Exists(Dll), $"FleetNode was not built next to the tests: {Dll}");
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Dll);
        start.ArgumentList.Add("node");
        foreach (string arg in nodeArgs)
        {
            start.ArgumentList.Add(arg);
        }

        var node = new FleetProcess(Process.Start(start)!);
        string ready = await node.ReadAsync(StartTimeout);
        Assert.True(ready == "ready", $"FleetNode said '{ready}' instead of 'ready'");
        return node;
    }

    /// <summary>Sends one command and returns its one-line answer.</summary>
    public async Task<string> SendAsync(string command)
    {
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
        return await ReadAsync(AnswerTimeout);
    }

    public async Task<int> QuitAsync()
    {
        await _process.StandardInput.WriteLineAsync("quit");
        await _process.StandardInput.FlushAsync();
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(AnswerTimeout);
        return _process.ExitCode;
    }

    /// <summary>Kills the process at once, like a crash.</summary>
    public void Kill()
    {
        _process.Kill();
        Assert.True(_process.WaitForExit(Eventually.Timeout), "the killed fleet node did not exit");
    }

    private async Task<string> ReadAsync(TimeSpan timeout)
    {
        try
        {
            return await _lines.Reader.ReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(timeout);
        }
        catch (Exception ex) when (ex is TimeoutException or ChannelClosedException)
        {
            string errors;
            lock (_errors)
            {
                errors = _errors.ToString();
            }

            throw new InvalidOperationException($"FleetNode did not answer (exited: {_process.HasExited}). Its stderr: {errors}", ex);
        }
    }

    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        string? root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        return root is not null && File.Exists(Path.Combine(root, "dotnet")) ? Path.Combine(root, "dotnet") : "dotnet";
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync().Within("the killed fleet node to exit");
        }

        _process.Dispose();
    }
}
