using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Tripswitch.Gateway.Forwarding;

/// <summary>
/// A request body read whole into a pooled buffer (bounded: the model must be read before anything is forwarded), and
/// where its top-level <c>model</c> string is, so a fallback can change that one value and nothing else.
/// </summary>
internal sealed class RequestBody : IDisposable
{
    private byte[] _buffer;

    private RequestBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    /// <summary>The <c>model</c> value, or <see langword="null"/> when the body has none (or isn't a JSON object).</summary>
    public string? Model { get; private set; }

    /// <summary>Where the <c>model</c> value's JSON token (quotes included) starts, and how long it is.</summary>
    private (int Start, int Length) ModelToken { get; set; }

    /// <summary>
    /// Reads the body of <paramref name="request"/>, refusing one longer than <paramref name="limit"/> bytes (whatever
    /// its <c>Content-Length</c> says): <see langword="null"/> then.
    /// </summary>
    public static async ValueTask<RequestBody?> ReadAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(request.ContentLength is { } known ? (int)known + 1 : 16 * 1024);
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, limit + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                int read = await request.Body.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length, limit + 1) - length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return null;
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        var body = new RequestBody(buffer, length);
        body.FindModel();
        return body;
    }

    /// <summary>A copy of the body whose <c>model</c> is <paramref name="modelJson"/> (a JSON string token); every other byte is unchanged.</summary>
    public byte[] WithModel(ReadOnlySpan<byte> modelJson)
    {
        (int start, int length) = ModelToken;
        byte[] copy = new byte[Length - length + modelJson.Length];
        _buffer.AsSpan(0, start).CopyTo(copy);
        modelJson.CopyTo(copy.AsSpan(start));
        _buffer.AsSpan(start + length, Length - start - length).CopyTo(copy.AsSpan(start + modelJson.Length));
        return copy;
    }

    public void Dispose()
    {
        byte[] buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void FindModel()
    {
        try
        {
            var reader = new Utf8JsonReader(_buffer.AsSpan(0, Length), new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isModel = reader.ValueTextEquals("model"u8);
                reader.Read();
                if (isModel && reader.TokenType == JsonTokenType.String)
                {
                    int start = (int)reader.TokenStartIndex;
                    Model = reader.GetString();
                    ModelToken = (start, (int)reader.BytesConsumed - start);
                    return;
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
            Model = null; // not JSON: answered as an invalid request, never forwarded
        }
    }
}
