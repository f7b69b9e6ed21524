using System.Diagnostics;
using System.Globalization;

namespace Tripswitch.Gateway.Bench.Streams;

/// <summary>
/// A server of the streams benchmark in its own process (this program in another mode), driven over stdin/stdout as
/// <see cref="ChildHost"/> describes. Its own process, so its memory and open files are its own, and each process stays
/// under the per-process limit on open files.
/// </summary>
internal sealed class BenchChild : IAsyncDisposable
{
    private readonly Process _process;

    private BenchChild(Process process, IReadOnlyList<Uri> addresses)
    {
        _process = process;
        Addresses = addresses;
    }

    /// <summary>Where the child listens, in the order its endpoints were configured.</summary>
    public IReadOnlyList<Uri> Addresses { get; }

    /// <summary>The child's process id (for the report).</summary>
    public int Id => _process.Id;

    /// <summary>Starts this program as <paramref name="arguments"/> and waits (at most a minute) for its <c>ready</c> line.</summary>
    /// <param name="arguments">The mode and its arguments.</param>
    /// <param name="serverGc">Runs the child with server GC, as the gateway ships (the Web SDK's default).</param>
    public static async Task<BenchChild> StartAsync(IEnumerable<string> arguments, bool serverGc)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(BenchChild).Assembly.Location); // started as `dotnet Tripswitch.Gateway.Bench.dll`
        }

        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_gcServer"] = serverGc ? "1" : "0";
        Process process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        string? line = await process.StandardOutput.ReadLineAsync(timeout.Token);
        if (line is null || !line.StartsWith("ready ", StringComparison.Ordinal))
        {
            process.Kill();
            throw new InvalidOperationException($"{string.Join(' ', arguments)} did not start: '{line}'");
        }

        return new BenchChild(process, [.. line["ready ".Length..].Split(' ').Select(static a => new Uri(a))]);
    }

    /// <summary>The child's memory and open files, after a full collection in it.</summary>
    public async Task<ChildMemory> MeasureAsync()
    {
        await _process.StandardInput.WriteLineAsync("measure");
        await _process.StandardInput.FlushAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string line = await _process.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("the child exited");
        string[] parts = line.Split(' ');
        return new ChildMemory(long.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture), int.Parse(parts[3], CultureInfo.InvariantCulture));
    }

    /// <summary>Asks the child to stop, and ends it if it hasn't within 15 s.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _process.StandardInput.WriteLineAsync("exit");
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // already gone
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }

        _process.Dispose();
    }
}

/// <summary>What <see cref="BenchChild.MeasureAsync"/> reports.</summary>
internal readonly record struct ChildMemory(long WorkingSetBytes, long GcHeapBytes, int OpenFiles);
