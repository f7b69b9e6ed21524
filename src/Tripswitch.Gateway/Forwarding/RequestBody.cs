using System.Buffers;
using Microsoft.AspNetCore.Http;
using Tripswitch.Gateway.Configuration;

namespace Tripswitch.Gateway.Forwarding;

/// <summary>
/// A request body read whole into a pooled buffer (bounded: the model must be read before anything is forwarded), and
/// its one reading by <see cref="RequestJson"/>: the top-level <c>model</c> and where its token is, so a fallback can
/// change that one value and nothing else; or why the body is refused.
/// </summary>
/// <remarks>
/// The buffer starts at <see cref="GatewayDefaults.InitialRequestBodyBuffer"/> and doubles only when it is full, so a
/// connection holds at most about twice the bytes it actually sent (plus the first buffer), whatever its
/// <c>Content-Length</c> declares: clients that declare a large body and trickle it reserve nothing in advance.
/// </remarks>
internal sealed class RequestBody : IDisposable
{
    private byte[] _buffer;
    private readonly ModelToken _model;

    private RequestBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
        if (RequestJson.TryReadModel(buffer.AsSpan(0, length), out ModelToken model, out BodyProblem problem))
        {
            _model = model;
        }
        else
        {
            Problem = problem;
        }
    }

    public int Length { get; }

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    /// <summary>The top-level <c>model</c>, or <see langword="null"/> when the body is refused (see <see cref="Problem"/>).</summary>
    public string? Model => _model.Value;

    /// <summary>Why the body is refused (answered 400, never forwarded), or <see langword="null"/> for a body with one string <c>model</c>.</summary>
    public BodyProblem? Problem { get; }

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

        // One byte beyond the limit is read to tell "exactly the limit" from "more".
        int ceiling = limit + 1;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Min(GatewayDefaults.InitialRequestBodyBuffer, ceiling));
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    byte[] larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(buffer.Length * 2L, ceiling));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                int read = await request.Body.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length, ceiling) - length), cancellationToken).ConfigureAwait(false);
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

        return new RequestBody(buffer, length);
    }

    /// <summary>A copy of the body whose <c>model</c> is <paramref name="modelJson"/> (a JSON string token); every other byte is unchanged.</summary>
    public byte[] WithModel(ReadOnlySpan<byte> modelJson)
    {
        (_, int start, int length) = _model;
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
}
