using System.Globalization;

namespace Tripswitch.Gateway.Bench.Streams;

/// <summary>
/// Counts TCP connections from /proc/net/tcp and /proc/net/tcp6 (the whole network namespace, every process; .NET's
/// dual-mode sockets show IPv4 connections in tcp6, as <c>::ffff:127.0.0.1</c>).
/// </summary>
internal static class TcpConnections
{
    private static readonly string[] Tables = ["/proc/net/tcp", "/proc/net/tcp6"];

    /// <summary>
    /// Established IPv4 connections whose remote end is <paramref name="port"/>: the connections made to that port, each
    /// counted once (from its client's side). Only one proxy runs at a time, so at the upstream's h2c port these are that
    /// proxy's connections. -1 when the table cannot be read.
    /// </summary>
    public static int EstablishedTo(int port)
    {
        string[] tables = [.. Tables.Where(File.Exists)];
        if (tables.Length == 0)
        {
            return -1;
        }

        // Lines: "sl local_address rem_address st …", addresses as hex "0100007F:1F90", state 01 = ESTABLISHED.
        string remote = ":" + port.ToString("X4", CultureInfo.InvariantCulture);
        return tables.SelectMany(static table => File.ReadLines(table).Skip(1))
            .Select(static line => line.Split(' ', 5, StringSplitOptions.RemoveEmptyEntries))
            .Count(f => f.Length >= 4 && f[2].EndsWith(remote, StringComparison.Ordinal) && f[3] == "01");
    }
}
