using System.Diagnostics;
using System.Globalization;

namespace Tripswitch.Testing.Redis;

/// <summary>
/// A real Redis Cluster of three masters (no replicas) on loopback: three <see cref="RedisServer"/>s started with
/// <c>--cluster-enabled yes --cluster-config-file nodes.conf --cluster-port B</c>, joined by
/// <c>redis-cli --cluster create … --cluster-replicas 0 --cluster-yes</c>, ready once every node's CLUSTER INFO says
/// <c>cluster_state:ok</c>. A master can be killed (SIGKILL) to take its slots away.
/// </summary>
public sealed class RedisCluster : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly List<RedisServer> _masters;

    private RedisCluster(List<RedisServer> masters) => _masters = masters;

    /// <summary>redis-cli, or <see langword="null"/> when it is not installed.</summary>
    public static string? Cli { get; } = RedisServer.OnPath("redis-cli");

    /// <summary>The masters, each serving a third of the 16,384 slots.</summary>
    public IReadOnlyList<RedisServer> Masters => _masters;

    /// <summary>A StackExchange.Redis configuration string naming every master (the client discovers the slot map).</summary>
    public string Configuration => string.Join(',', _masters.Select(static master => master.Endpoint));

    /// <summary>Skips (or, with TRIPSWITCH_REQUIRE_INTEGRATION=1, fails) the test when redis-server or redis-cli is missing.</summary>
    public static void RequireInstalled()
    {
        RedisServer.RequireInstalled();
        if (Cli is null)
        {
            IntegrationRequirement.Missing("redis-cli is not installed (Debian/Ubuntu: apt-get install -y redis-tools; ./test.sh installs it when run as root).");
        }
    }

    /// <summary>
    /// Starts a cluster of <paramref name="masters"/> masters. <paramref name="nodeTimeout"/> is how long the others
    /// wait before they declare a silent master failed (and, with no replica to promote, the cluster down, unless
    /// <paramref name="requireFullCoverage"/> is <see langword="false"/>: then the others keep serving their own slots).
    /// </summary>
    /// <param name="masters">How many masters.</param>
    /// <param name="nodeTimeout">The cluster node timeout (default 2 s).</param>
    /// <param name="requireFullCoverage">Whether the cluster stops serving when any slot is unserved.</param>
    /// <returns>The running cluster.</returns>
    public static async Task<RedisCluster> StartNewAsync(int masters = 3, TimeSpan? nodeTimeout = null, bool requireFullCoverage = true)
    {
        RequireInstalled();
        string timeout = ((long)(nodeTimeout ?? TimeSpan.FromSeconds(2)).TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        var cluster = new RedisCluster([]);
        try
        {
            for (int i = 0; i < masters; i++)
            {
                var options = new RedisServerOptions
                {
                    Arguments =
                    [
                        "--cluster-enabled", "yes",
                        "--cluster-config-file", "nodes.conf",
                        "--cluster-port", RedisServer.FreePort().ToString(CultureInfo.InvariantCulture),
                        "--cluster-node-timeout", timeout,
                        "--cluster-require-full-coverage", requireFullCoverage ? "yes" : "no",
                    ],
                };
                cluster._masters.Add(await RedisServer.StartNewAsync(options));
            }

            await RunCliAsync(["--cluster", "create", .. cluster._masters.Select(static master => master.Endpoint), "--cluster-replicas", "0", "--cluster-yes"]);
            await cluster.WaitUntilOkAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until every running master reports <c>cluster_state:ok</c> with all 16,384 slots served.</summary>
    /// <returns>A task that completes when the cluster is ok.</returns>
    public Task WaitUntilOkAsync()
        => WaitUntilAsync(static info => info.Contains("cluster_state:ok", StringComparison.Ordinal) && info.Contains("cluster_slots_ok:16384", StringComparison.Ordinal), "cluster_state:ok");

    /// <summary>
    /// Waits until every running master reports <c>cluster_state:fail</c> (e.g. after a master without a replica was
    /// killed and the node timeout passed): from then on the cluster refuses every command.
    /// </summary>
    /// <returns>A task that completes when the cluster is down.</returns>
    public Task WaitUntilFailedAsync()
        => WaitUntilAsync(static info => info.Contains("cluster_state:fail", StringComparison.Ordinal), "cluster_state:fail");

    private async Task WaitUntilAsync(Func<string, bool> condition, string what)
    {
        long started = TimeProvider.System.GetTimestamp();
        while (true)
        {
            bool all = true;
            foreach (RedisServer master in _masters.Where(static master => master.IsRunning))
            {
                all &= condition(await RunCliAsync(["-h", "127.0.0.1", "-p", master.Port.ToString(CultureInfo.InvariantCulture), "cluster", "info"]));
            }

            if (all)
            {
                return;
            }

            if (TimeProvider.System.GetElapsedTime(started) > ReadyTimeout)
            {
                throw new TimeoutException($"The cluster {Configuration} did not reach {what} within {ReadyTimeout}.");
            }

            await Task.Delay(PollInterval);
        }
    }

    /// <summary>Runs redis-cli and returns its output; a non-zero exit fails with the output.</summary>
    private static async Task<string> RunCliAsync(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Cli!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("redis-cli did not start.");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        string text = await output + await error;
        return process.ExitCode == 0
            ? text
            : throw new InvalidOperationException($"redis-cli {string.Join(' ', start.ArgumentList)} exited with code {process.ExitCode}: {text}");
    }

    /// <summary>Kills every master and deletes their directories.</summary>
    /// <returns>A task that completes when they are gone.</returns>
    public async ValueTask DisposeAsync()
    {
        foreach (RedisServer master in _masters)
        {
            await master.DisposeAsync();
        }
    }
}
