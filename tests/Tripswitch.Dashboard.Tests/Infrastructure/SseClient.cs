using System.Text.Json;

namespace Tripswitch.Dashboard.Tests.Infrastructure;

/// <summary>One Server-Sent Event: its name, its (JSON) data and its id, if any.</summary>
internal sealed record SseEvent(string Name, string Data, string? Id = null)
{
    public JsonElement Json => JsonDocument.Parse(Data).RootElement;
}

/// <summary>Reads a text/event-stream response event by event.</summary>
internal sealed class SseClient : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly CountingStream _stream;
    private readonly StreamReader _reader;

    private SseClient(HttpResponseMessage response, Stream stream)
    {
        _response = response;
        _stream = new CountingStream(stream);
        _reader = new StreamReader(_stream);
    }

    /// <summary>Bytes of the response body read so far (what the server sent, once every sent event has been read).</summary>
    public long BytesRead => _stream.BytesRead;

    public HttpResponseMessage Response => _response;

    /// <summary>The last <c>retry:</c> field seen, in milliseconds.</summary>
    public int? Retry { get; private set; }

    public static async Task<SseClient> ConnectAsync(HttpClient client, string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/event-stream");
        HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        Stream stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        return new SseClient(response, stream);
    }

    /// <summary>The next event, or <see langword="null"/> when the server ended the stream cleanly.</summary>
    public async Task<SseEvent?> ReadEventAsync(CancellationToken cancellationToken)
    {
        string name = "message";
        string? data = null;
        string? id = null;
        while (true)
        {
            string? line = await _reader.ReadLineAsync(cancellationToken);
            if (line is null)
            {
                return null;
            }

            if (line.Length == 0)
            {
                if (data is not null)
                {
                    return new SseEvent(name, data, id);
                }

                continue;
            }

            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = data is null ? line["data: ".Length..] : data + "\n" + line["data: ".Length..];
            }
            else if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = line["id: ".Length..];
            }
            else if (line.StartsWith("retry: ", StringComparison.Ordinal))
            {
                Retry = int.Parse(line["retry: ".Length..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }
    }

    /// <summary>The next event, which must be named <paramref name="name"/>.</summary>
    public async Task<JsonElement> ExpectAsync(string name, CancellationToken cancellationToken)
    {
        SseEvent? next = await ReadEventAsync(cancellationToken);
        Assert.NotNull(next);
        Assert.Equal(name, next.Name);
        return next.Json;
    }

    /// <summary>The next event named <paramref name="name"/>, skipping events of other names.</summary>
    public async Task<JsonElement> NextAsync(string name, CancellationToken cancellationToken)
    {
        while (true)
        {
            SseEvent? next = await ReadEventAsync(cancellationToken);
            Assert.NotNull(next);
            if (next.Name == name)
            {
                return next.Json;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
