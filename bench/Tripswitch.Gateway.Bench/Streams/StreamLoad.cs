using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Tripswitch.Gateway.Bench.Streams;

/// <summary>
/// The client side: opens <c>count</c> streaming chat requests, each on its own HTTP/1.1 connection, at a bounded rate;
/// times each one's first byte (the role chunk) and checks that it then receives every token, in order, the
/// <c>stop</c> chunk and <c>[DONE]</c>, and nothing else. Bounded in count (<c>count</c> streams) and in time (the ramp
/// stops starting streams at its deadline, and every stream is cancelled at the run's deadline).
/// </summary>
internal sealed class StreamLoad
{
    private readonly byte[] _body;
    private readonly string[] _expected;
    private int _open;
    private int _firstBytes;
    private int _endedEarly;

    public StreamLoad(int tokens)
    {
        _body = Encoding.UTF8.GetBytes($"{{\"model\":\"gpt-4.1\",\"stream\":true,\"max_tokens\":{tokens},\"messages\":[{{\"role\":\"user\",\"content\":\"Count slowly.\"}}]}}");
        _expected = [SlowUpstream.Chunk(SlowUpstream.RoleDelta, "null"), .. Enumerable.Range(0, tokens).Select(static i => SlowUpstream.Chunk(SlowUpstream.TokenDelta(i), "null")), SlowUpstream.Chunk("{}", "\"stop\""), "data: [DONE]"];
    }

    /// <summary>
    /// Runs <paramref name="count"/> streams against <paramref name="url"/>, starting <paramref name="perSecond"/> a
    /// second. Once every started stream has had its first byte (or failed), <paramref name="atPlateau"/> runs while
    /// they are all still open.
    /// </summary>
    public async Task<LoadResult> RunAsync(Uri url, int count, int perSecond, TimeSpan deadline, Func<Task>? atPlateau = null)
    {
        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            MaxConnectionsPerServer = int.MaxValue, // one connection per concurrent stream
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        };
        using var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        using var stop = new CancellationTokenSource(deadline);
        var failures = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var firstByteMs = new double[count];
        var streams = new List<Task>(count);
        _open = _firstBytes = _endedEarly = 0;
        long start = Stopwatch.GetTimestamp();
        TimeSpan rampDeadline = deadline / 2;
        for (int i = 0; i < count && Stopwatch.GetElapsedTime(start) < rampDeadline; i++)
        {
            TimeSpan due = TimeSpan.FromSeconds((double)i / perSecond) - Stopwatch.GetElapsedTime(start);
            if (due > TimeSpan.FromMilliseconds(5))
            {
                await Task.Delay(due, stop.Token);
            }

            streams.Add(OneAsync(client, url, i, firstByteMs, failures, stop.Token));
        }

        TimeSpan ramp = Stopwatch.GetElapsedTime(start);
        int started = streams.Count;
        // Bounded: until every started stream has had its first byte or failed, or 30 s.
        for (int waited = 0; waited < 3000 && Volatile.Read(ref _firstBytes) + failures.Values.Sum() < started; waited++)
        {
            await Task.Delay(10, stop.Token);
        }

        int openAtPlateau = Volatile.Read(ref _open);
        if (atPlateau is not null)
        {
            await atPlateau();
        }

        await Task.WhenAll(streams);
        int ok = started - failures.Values.Sum();
        return new LoadResult(count, started, ok, openAtPlateau, Volatile.Read(ref _endedEarly), ramp, Stopwatch.GetElapsedTime(start),
            [.. firstByteMs.Where(static t => t > 0).Order()], new Dictionary<string, int>(failures, StringComparer.Ordinal));
    }

    private async Task OneAsync(HttpClient client, Uri url, int index, double[] firstByteMs, ConcurrentDictionary<string, int> failures, CancellationToken cancel)
    {
        await Task.Yield(); // the ramp loop goes on at once
        string? failure = null;
        bool opened = false;
        try
        {
            long start = Stopwatch.GetTimestamp();
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(_body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                failure = $"status {(int)response.StatusCode}";
                return;
            }

            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel), Encoding.UTF8, false, bufferSize: 256);
            for (int expected = 0; expected < _expected.Length; expected++)
            {
                string? line = await ReadEventAsync(reader, cancel);
                if (expected == 0)
                {
                    firstByteMs[index] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    Interlocked.Increment(ref _firstBytes);
                    Interlocked.Increment(ref _open);
                    opened = true;
                }

                if (line != _expected[expected])
                {
                    failure = line is null ? $"ended after {expected} of {_expected.Length} events" : $"unexpected event {expected}";
                    return;
                }
            }

            if (await ReadEventAsync(reader, cancel) is not null)
            {
                failure = "data after [DONE]";
            }
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            failure = e.GetType().Name + (e.InnerException is { } inner ? "/" + inner.GetType().Name : "");
        }
        finally
        {
            if (opened)
            {
                Interlocked.Decrement(ref _open);
            }

            if (failure is not null)
            {
                if (opened)
                {
                    Interlocked.Increment(ref _endedEarly);
                }

                failures.AddOrUpdate(failure, 1, static (_, n) => n + 1);
            }
        }
    }

    /// <summary>The next SSE event's line (events are one <c>data:</c> line each here), or null at the end of the stream.</summary>
    private static async Task<string?> ReadEventAsync(StreamReader reader, CancellationToken cancel)
    {
        // Bounded: skips at most one blank separator line per event.
        for (int i = 0; i < 2; i++)
        {
            string? line = await reader.ReadLineAsync(cancel);
            if (line is null || line.Length > 0)
            {
                return line;
            }
        }

        return string.Empty;
    }
}

/// <summary>What one run of <see cref="StreamLoad"/> saw.</summary>
/// <param name="FirstByteMs">Each stream's time to first byte (the role chunk), sorted.</param>
internal sealed record LoadResult(int Requested, int Started, int Complete, int OpenAtPlateau, int EndedEarly, TimeSpan Ramp, TimeSpan Total, double[] FirstByteMs, Dictionary<string, int> Failures)
{
    /// <summary>The nearest-rank percentile <paramref name="p"/> (0..100) of the times to first byte, in ms.</summary>
    public double FirstByte(double p) => FirstByteMs.Length == 0 ? double.NaN : FirstByteMs[Math.Clamp((int)Math.Ceiling(p / 100 * FirstByteMs.Length) - 1, 0, FirstByteMs.Length - 1)];

    /// <summary>Streams that did not get every token and [DONE] (never started ones included).</summary>
    public int Lost => Requested - Complete;
}
