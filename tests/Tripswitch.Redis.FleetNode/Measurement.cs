using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using StackExchange.Redis;
using Tripswitch.Testing.Redis;

namespace Tripswitch.Redis.FleetNode;

/// <summary>
/// What the two measurements (<see cref="Load"/>, <see cref="Propagation"/>) share: their throwaway redis-server (the test
/// kit's <see cref="RedisServer"/>), the line that says where a report was measured, and how a report is published.
/// </summary>
internal static class Measurement
{
    /// <summary>
    /// Starts a redis-server on a free loopback port (no persistence). Checked here first so that a missing server is a
    /// plain usage error naming <paramref name="alternative"/>, not a test skip.
    /// </summary>
    public static Task<RedisServer> StartRedisAsync(string alternative)
        => RedisServer.Executable is null
            ? throw new ArgumentException($"redis-server is not on PATH; install it (apt-get install -y redis-server){alternative}")
            : RedisServer.StartNewAsync();

    /// <summary>The report's "Measured … on …" line: when, on what machine and runtime, against which redis-server.</summary>
    public static string MeasuredOn(IServer server)
        => string.Create(
            CultureInfo.InvariantCulture,
            $"Measured {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, redis-server {server.Version} on 127.0.0.1 (loopback).");

    /// <summary>Ends <paramref name="report"/> with how to reproduce it, writes it to <c>--out</c> when given, and prints it.</summary>
    public static async Task<int> PublishAsync(StringBuilder report, string reproduce, string howRedisIsFound, CommandLine options)
    {
        report.AppendLine(CultureInfo.InvariantCulture, $"Reproduce ({howRedisIsFound}):");
        report.AppendLine();
        report.AppendLine("```sh");
        report.AppendLine(reproduce);
        report.AppendLine("```");

        if (options.Get("out") is { } path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            await File.WriteAllTextAsync(path, report.ToString());
            Console.Error.WriteLine($"wrote {path}");
        }

        Console.Write(report.ToString());
        return 0;
    }
}
