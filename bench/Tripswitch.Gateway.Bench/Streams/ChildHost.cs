using System.Globalization;
using Microsoft.AspNetCore.Builder;

namespace Tripswitch.Gateway.Bench.Streams;

/// <summary>
/// The child side of the streams benchmark's process protocol (stdin/stdout, one line each): the child starts its
/// server and prints <c>ready url…</c>; on <c>measure</c> it collects garbage fully and prints
/// <c>memory workingSetBytes gcHeapBytes openFiles</c>; on <c>exit</c> or end of input it stops.
/// </summary>
internal static class ChildHost
{
    public static async Task RunAsync(WebApplication app)
    {
        await app.StartAsync();
        Console.WriteLine("ready " + string.Join(' ', BenchHost.Addresses(app)));
        // Bounded: one line per command from the driver, which sends a handful and then closes the pipe.
        while (await Console.In.ReadLineAsync() is { } command && command != "exit")
        {
            if (command == "measure")
            {
                Console.WriteLine(Measure());
            }
        }

        await app.StopAsync();
        await app.DisposeAsync();
    }

    /// <summary>
    /// After a blocking, compacting full collection: the process's working set, the bytes the GC heap holds live, and
    /// the open file descriptors (sockets included).
    /// </summary>
    private static string Measure()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        long heap = GC.GetTotalMemory(forceFullCollection: true);
        long workingSet = Environment.WorkingSet;
        int files = Directory.GetFileSystemEntries("/proc/self/fd").Length;
        return string.Create(CultureInfo.InvariantCulture, $"memory {workingSet} {heap} {files}");
    }
}
