using System.Globalization;

namespace Tripswitch.Gateway.Bench.Streams;

/// <summary>Prints the streams benchmark's markdown tables: one row per target, then the proxies' first-byte overhead.</summary>
internal static class StreamsTable
{
    public static void Print(TextWriter output, IReadOnlyList<Row> rows, int count, int tokens, int minPauseMs, int maxPauseMs, int perSecond)
    {
        output.WriteLine("| target | complete / streams | lost | open at plateau | TTFB p50 | TTFB p99 | working set / open stream | GC heap / open stream | proxy open files at plateau | proxy → upstream connections |");
        output.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (Row row in rows)
        {
            LoadResult load = row.Load;
            string workingSet = "–", heap = "–", files = "–", connections = row.UpstreamConnections < 0 ? "–" : Inv($"{row.UpstreamConnections:N0}");
            if (row is { Before: { } before, Plateau: { } plateau } && load.OpenAtPlateau > 0)
            {
                workingSet = Kb((plateau.WorkingSetBytes - before.WorkingSetBytes) / (double)load.OpenAtPlateau);
                heap = Kb((plateau.GcHeapBytes - before.GcHeapBytes) / (double)load.OpenAtPlateau);
                files = Inv($"{plateau.OpenFiles:N0}");
            }

            output.WriteLine(Inv($"| {row.Target} | {load.Complete:N0} / {load.Requested:N0} | {load.Lost} | {load.OpenAtPlateau:N0} | {Ms(load.FirstByte(50))} | {Ms(load.FirstByte(99))} | {workingSet} | {heap} | {files} | {connections} |"));
        }

        output.WriteLine();
        output.WriteLine("| time to first byte, added by | p50 | p99 |");
        output.WriteLine("| --- | ---: | ---: |");
        LoadResult direct = rows[0].Load;
        foreach (Row row in rows.Skip(1))
        {
            output.WriteLine(Inv($"| {row.Target} vs upstream directly | {Ms(row.Load.FirstByte(50) - direct.FirstByte(50))} | {Ms(row.Load.FirstByte(99) - direct.FirstByte(99))} |"));
        }

        if (rows.Count == 3)
        {
            output.WriteLine(Inv($"| {rows[2].Target} vs {rows[1].Target} | {Ms(rows[2].Load.FirstByte(50) - rows[1].Load.FirstByte(50))} | {Ms(rows[2].Load.FirstByte(99) - rows[1].Load.FirstByte(99))} |"));
        }

        output.WriteLine();
        output.WriteLine(Inv($"{count:N0} streams per target, each on its own HTTP/1.1 connection, started {perSecond:N0}/s; each stream: the role chunk at once, {tokens} tokens {minPauseMs}–{maxPauseMs} ms apart, stop, [DONE]; proxies to the upstream over h2c (at most {SlowUpstream.MaxStreamsPerConnection} streams per connection); {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}."));
    }

    private static string Ms(double ms) => Inv($"{ms:F1} ms");

    private static string Kb(double bytes) => Inv($"{bytes / 1024:F1} KB");

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
