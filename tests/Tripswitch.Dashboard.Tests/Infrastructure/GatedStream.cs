using System.Text;

namespace Tripswitch.Dashboard.Tests.Infrastructure;

/// <summary>A response body whose writes wait until the test opens the gate: a client that reads nothing, on demand.</summary>
internal sealed class GatedStream : Stream
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _writeStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _written = new(0);
    private readonly Lock _lock = new();
    private readonly MemoryStream _buffer = new();

    /// <summary>Completes when the first write is waiting at the gate.</summary>
    public Task WriteStarted => _writeStarted.Task;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public string Text
    {
        get
        {
            lock (_lock)
            {
                return Encoding.UTF8.GetString(_buffer.GetBuffer(), 0, (int)_buffer.Length);
            }
        }
    }

    public void Open() => _gate.TrySetResult();

    /// <summary>Waits until what was written satisfies <paramref name="condition"/>.</summary>
    public async Task<string> WaitForAsync(Func<string, bool> condition, CancellationToken cancellationToken)
    {
        while (true)
        {
            string text = Text;
            if (condition(text))
            {
                return text;
            }

            await _written.WaitAsync(cancellationToken);
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _writeStarted.TrySetResult();
        await _gate.Task.WaitAsync(cancellationToken);
        lock (_lock)
        {
            _buffer.Write(buffer.Span);
        }

        _written.Release();
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _written.Dispose();
            _buffer.Dispose();
        }

        base.Dispose(disposing);
    }
}
