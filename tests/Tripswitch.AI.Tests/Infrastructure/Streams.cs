using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;

namespace Tripswitch.AI.Tests.Infrastructure;

/// <summary>Scripted streamed responses for <see cref="ScriptedChatClient.StreamWith"/>.</summary>
internal static class Streams
{
    public static ChatResponseUpdate Update(string text) => new(ChatRole.Assistant, text);

    /// <summary>Yields <paramref name="texts"/> and completes.</summary>
    public static async IAsyncEnumerable<ChatResponseUpdate> Of(string[] texts, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (string text in texts)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            yield return Update(text);
        }
    }

    /// <summary>Yields <paramref name="count"/> updates (<c>part 1</c>, <c>part 2</c>…), then throws <paramref name="failure"/>.</summary>
    public static async IAsyncEnumerable<ChatResponseUpdate> ThenThrow(int count, Exception failure)
    {
        for (int i = 1; i <= count; i++)
        {
            await Task.Yield();
            yield return Update($"part {i}");
        }

        await Task.Yield();
        throw failure;
    }

    /// <summary>
    /// Yields <paramref name="before"/>, then waits for <paramref name="gate"/> (or the caller's cancellation, which it
    /// throws as an <see cref="OperationCanceledException"/> the way an HTTP stream does), then yields <paramref name="after"/>.
    /// </summary>
    public static async IAsyncEnumerable<ChatResponseUpdate> Gated(Task gate, string[] before, string[] after, TaskCompletionSource? waiting = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (string text in before)
        {
            await Task.Yield();
            yield return Update(text);
        }

        waiting?.TrySetResult();
        await gate.WaitAsync(cancellationToken);
        foreach (string text in after)
        {
            yield return Update(text);
        }
    }

    /// <summary>
    /// A model slow to start: advances <paramref name="time"/> by <paramref name="firstTokenAfter"/> before the first update,
    /// by <paramref name="between"/> before each later one, then completes.
    /// </summary>
    public static async IAsyncEnumerable<ChatResponseUpdate> Timed(FakeTimeProvider time, TimeSpan firstTokenAfter, TimeSpan between, params string[] texts)
    {
        for (int i = 0; i < texts.Length; i++)
        {
            await Task.Yield();
            time.Advance(i == 0 ? firstTokenAfter : between);
            yield return Update(texts[i]);
        }
    }

    /// <summary>Yields <paramref name="texts"/>, counting what it yields and noting when it is disposed.</summary>
    public static async IAsyncEnumerable<ChatResponseUpdate> Tracked(StreamTracker tracker, string[] texts, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        try
        {
            foreach (string text in texts)
            {
                await Task.Yield();
                cancellationToken.ThrowIfCancellationRequested();
                tracker.Yielded++;
                yield return Update(text);
            }

            tracker.Finished = true;
        }
        finally
        {
            tracker.Disposed = true;
        }
    }

    /// <summary>Yields <paramref name="texts"/>; disposing it early (a consumer that stops reading) throws <paramref name="failure"/>.</summary>
    public static async IAsyncEnumerable<ChatResponseUpdate> ThrowingOnDispose(string[] texts, Exception failure)
    {
        bool completed = false;
        try
        {
            foreach (string text in texts)
            {
                await Task.Yield();
                yield return Update(text);
            }

            completed = true;
        }
        finally
        {
            if (!completed)
            {
#pragma warning disable CA2219 // on purpose: that is the stream this test double plays
                throw failure;
#pragma warning restore CA2219
            }
        }
    }

    /// <summary>Collects a stream's text, update by update.</summary>
    public static async Task<List<string>> ReadAllAsync(IAsyncEnumerable<ChatResponseUpdate> stream, CancellationToken cancellationToken = default)
    {
        var texts = new List<string>();
        await foreach (ChatResponseUpdate update in stream.WithCancellation(cancellationToken))
        {
            texts.Add(update.Text);
        }

        return texts;
    }
}

/// <summary>What <see cref="Streams.Tracked"/> saw of its consumer.</summary>
internal sealed class StreamTracker
{
    public int Yielded { get; set; }

    public bool Finished { get; set; }

    public bool Disposed { get; set; }
}
