using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Tripswitch.Dashboard.Internal;

/// <summary>
/// Writes Server-Sent Events (<c>event:</c> name, one <c>data:</c> line of JSON) into a <see cref="PipeWriter"/>;
/// the caller flushes. The JSON is compact, so it never holds a line break that would end the <c>data:</c> line.
/// </summary>
internal sealed class SseWriter : IDisposable
{
    private readonly PipeWriter _output;
    private readonly Utf8JsonWriter _json;

    public SseWriter(PipeWriter output)
    {
        _output = output;
        _json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = false });
    }

    /// <summary>Tells the browser's <c>EventSource</c> how long to wait before reconnecting.</summary>
    public void WriteRetry(TimeSpan delay) => WriteAscii(string.Create(CultureInfo.InvariantCulture, $"retry: {(long)delay.TotalMilliseconds}\n\n"));

    public void WriteEvent<T>(string eventName, T value, JsonTypeInfo<T> typeInfo)
    {
        WriteAscii("event: ");
        WriteAscii(eventName);
        WriteAscii("\ndata: ");
        _json.Reset(_output);
        JsonSerializer.Serialize(_json, value, typeInfo); // flushes into the pipe
        WriteAscii("\n\n");
    }

    public void Dispose() => _json.Dispose();

    private void WriteAscii(string text)
    {
        Span<byte> span = _output.GetSpan(text.Length);
        int written = Encoding.ASCII.GetBytes(text, span);
        _output.Advance(written);
    }
}
