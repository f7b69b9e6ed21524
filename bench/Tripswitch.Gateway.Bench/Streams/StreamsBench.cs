using System.Globalization;
using Microsoft.AspNetCore.Builder;

namespace Tripswitch.Gateway.Bench.Streams;

/// <summary>
/// 10,000 concurrent slow streams through one gateway, against the upstream directly and plain YARP in the same run
/// (bench/gateway/streams.sh). This process is the client; the upstream and each proxy run in their own processes.
/// Modes: <c>streams [count] [tokens] [minPauseMs] [maxPauseMs] [perSecond]</c> drives the run and prints the markdown
/// table; <c>streams-upstream min max</c>, <c>streams-yarp upstreamUrl</c> and <c>streams-gateway upstreamUrl</c> are
/// the children it starts.
/// </summary>
internal static class StreamsBench
{
    /// <summary>Files a process needs besides its sockets (runtime, assemblies, pipes, epoll …), with margin.</summary>
    private const int OtherFiles = 500;

    public static async Task<int> MainAsync(string[] args)
    {
        switch (args[0])
        {
            case "streams-upstream":
                await ChildHost.RunAsync(SlowUpstream.Build(Int(args, 1, 1000), Int(args, 2, 3000)));
                return 0;
            case "streams-yarp":
                await ChildHost.RunAsync(Proxies.PlainYarp(new Uri(args[1])));
                return 0;
            case "streams-gateway":
                await ChildHost.RunAsync(await Proxies.GatewayAsync(new Uri(args[1])));
                return 0;
            default:
                return await DriveAsync(Int(args, 1, 10_000), Int(args, 2, 12), Int(args, 3, 1000), Int(args, 4, 3000), Int(args, 5, 1250));
        }
    }

    private static async Task<int> DriveAsync(int count, int tokens, int minPauseMs, int maxPauseMs, int perSecond)
    {
        int fits = OpenFilesLimit() - OtherFiles;
        if (fits < count)
        {
            Console.Error.WriteLine($"The open-files limit (ulimit -n) is {OpenFilesLimit()}: the client and each proxy hold one socket per stream plus ~{OtherFiles} other files, so at most {fits} streams fit; running {fits} instead of {count}. Raise it with `ulimit -n {count + OtherFiles}` (up to the hard limit, ulimit -Hn) for the full count.");
            count = fits;
        }

        // The client's thread pool starts with one thread per core; the ramp opens connections faster than the pool's
        // hill climbing adds threads, so start with a few more (bench client only).
        ThreadPool.SetMinThreads(Environment.ProcessorCount * 4, Environment.ProcessorCount * 4);
        string loadBefore = LoadAverage();
        // Generous: the ramp, the longest stream (every pause at its maximum) and 30 s of slack on a loaded machine.
        TimeSpan deadline = TimeSpan.FromSeconds((double)count / perSecond + (tokens + 1) * maxPauseMs / 1000.0 + 30);
        var load = new StreamLoad(tokens);
        var rows = new List<Row>();
        await using (BenchChild upstream = await BenchChild.StartAsync(["streams-upstream", Text(minPauseMs), Text(maxPauseMs)], serverGc: true))
        {
            Uri h2c = upstream.Addresses[0], http1 = upstream.Addresses[1];
            Console.Error.WriteLine($"upstream: h2c {h2c}, HTTP/1.1 {http1}; {count} streams of {tokens} tokens, {minPauseMs}-{maxPauseMs} ms apart, {perSecond}/s");
            rows.Add(await MeasureAsync("upstream directly", null, http1, load, count, perSecond, deadline));
            rows.Add(await MeasureAsync("plain YARP (no circuits)", "streams-yarp", h2c, load, count, perSecond, deadline));
            rows.Add(await MeasureAsync("Tripswitch gateway", "streams-gateway", h2c, load, count, perSecond, deadline));
        }

        StreamsTable.Print(Console.Out, rows, count, tokens, minPauseMs, maxPauseMs, perSecond);
        Console.WriteLine($"Load average (1, 5, 15 min) before the run: {loadBefore}; after: {LoadAverage()}.");
        return rows.All(static r => r.Load.Lost == 0) ? 0 : 1;
    }

    private static async Task<Row> MeasureAsync(string name, string? proxyMode, Uri upstream, StreamLoad load, int count, int perSecond, TimeSpan deadline)
    {
        BenchChild? proxy = proxyMode is null ? null : await BenchChild.StartAsync([proxyMode, upstream.AbsoluteUri], serverGc: true);
        try
        {
            Uri url = new(proxy?.Addresses[0] ?? upstream, "v1/chat/completions");
            // Warm-up: every path jitted and the h2 connections open; token-less streams, so it takes a moment.
            LoadResult warm = await new StreamLoad(0).RunAsync(url, 200, 2000, TimeSpan.FromSeconds(30));
            if (warm.Lost > 0)
            {
                throw new InvalidOperationException($"{name}: warm-up lost {warm.Lost} streams: {string.Join(", ", warm.Failures)}");
            }

            ChildMemory? before = proxy is null ? null : await proxy.MeasureAsync();
            ChildMemory? plateau = null;
            int upstreamConnections = -1;
            LoadResult result = await load.RunAsync(url, count, perSecond, deadline, proxy is null ? null : async () =>
            {
                upstreamConnections = TcpConnections.EstablishedTo(upstream.Port);
                plateau = await proxy.MeasureAsync();
            });
            Console.Error.WriteLine($"{name}: {result.Complete}/{result.Requested} complete, {result.OpenAtPlateau} open at the plateau, ramp {result.Ramp.TotalSeconds:F1} s, total {result.Total.TotalSeconds:F1} s; failures: {string.Join(", ", result.Failures)}");
            return new Row(name, result, before, plateau, upstreamConnections);
        }
        finally
        {
            if (proxy is not null)
            {
                await proxy.DisposeAsync();
            }
        }
    }

    /// <summary>The soft limit on open files of this process (what its children inherit), from /proc/self/limits.</summary>
    private static int OpenFilesLimit()
    {
        string? line = File.ReadLines("/proc/self/limits").FirstOrDefault(static l => l.StartsWith("Max open files", StringComparison.Ordinal));
        string[] fields = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
        return fields.Length > 3 && int.TryParse(fields[3], CultureInfo.InvariantCulture, out int soft) ? soft : int.MaxValue;
    }

    /// <summary>The machine's load averages (other work on the shared machine shows here).</summary>
    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static int Int(string[] args, int index, int fallback) => args.Length > index ? int.Parse(args[index], CultureInfo.InvariantCulture) : fallback;

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>One target's result: the load, and (for a proxy) its memory before the ramp and at the plateau.</summary>
/// <param name="UpstreamConnections">The proxy's established connections to the upstream at the plateau (-1 when not known).</param>
internal sealed record Row(string Target, LoadResult Load, ChildMemory? Before, ChildMemory? Plateau, int UpstreamConnections);
