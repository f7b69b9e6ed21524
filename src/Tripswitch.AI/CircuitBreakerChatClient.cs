using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Tripswitch.AI;

/// <summary>
/// Chat-client middleware that sends each request through the circuit of its model (in a
/// <see cref="CircuitBreakerRegistry"/>), answers from a fallback client while that circuit is open, and judges a
/// streamed response as a whole: a stream that fails midway is a failure, a stream that completes is a success, a
/// stream the consumer abandons is neither, and optionally a slow first token is a slow call.
/// </summary>
/// <remarks>
/// A streamed response holds its permit from the request to the end of the stream, so the circuit's
/// <see cref="CircuitBreakerOptions.SlowCallThreshold"/> and <see cref="CircuitBreakerOptions.HalfOpenProbeTimeout"/> time the
/// whole answer, including the time the consumer takes to read it: a long, healthy answer can count as a slow call. For
/// streams, prefer <see cref="CircuitBreakerChatClientOptions.TimeToFirstTokenThreshold"/> and keep those two above the
/// longest answer you expect.
/// </remarks>
public sealed class CircuitBreakerChatClient : DelegatingChatClient
{
    private readonly CircuitBreakerRegistry _registry;
    private readonly Func<ChatOptions?, ChatClientMetadata?, string> _keySelector;
    private readonly IChatClient? _fallback;
    private readonly string? _fallbackModelId;
    private readonly TimeSpan? _timeToFirstToken;
    private readonly ChatClientMetadata? _metadata;

    /// <summary>Wraps <paramref name="innerClient"/>.</summary>
    /// <param name="innerClient">The client that talks to the model.</param>
    /// <param name="registry">Where the per-model circuits live; its defaults and per-key overrides configure them.</param>
    /// <param name="options">The middleware's options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public CircuitBreakerChatClient(IChatClient innerClient, CircuitBreakerRegistry registry, CircuitBreakerChatClientOptions? options = null)
        : base(innerClient)
    {
        ArgumentNullException.ThrowIfNull(registry);
        options?.Validate();
        _registry = registry;
        _keySelector = options?.KeySelector ?? CircuitBreakerChatClientOptions.ModelKey;
        _fallback = options?.FallbackClient;
        _fallbackModelId = options?.FallbackModelId;
        _timeToFirstToken = options?.TimeToFirstTokenThreshold;
        _metadata = innerClient.GetService<ChatClientMetadata>();
    }

    /// <summary>The circuit a request with <paramref name="options"/> goes through.</summary>
    /// <param name="options">The request's options.</param>
    /// <returns>The breaker (created on first use).</returns>
    public CircuitBreaker GetCircuit(ChatOptions? options = null) => _registry.Get(_keySelector(options, _metadata));

    /// <inheritdoc/>
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        CircuitBreaker breaker = GetCircuit(options);
        if (!breaker.TryAcquirePermit(out CircuitPermit permit, out CircuitRejection rejection))
        {
            return _fallback is null
                ? throw rejection.ToException()
                : await _fallback.GetResponseAsync(messages, FallbackOptions(options), cancellationToken).ConfigureAwait(false);
        }

        try
        {
            ChatResponse response = await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
            permit.RecordSuccess();
            return response;
        }
        catch (Exception ex)
        {
            // Not an exception filter: a throwing ShouldHandle must surface (exceptions in filters are swallowed).
            if (permit.RecordOutcome(ex, cancellationToken) != CallOutcome.Failure || !FallsBackOnFailure(breaker))
            {
                throw;
            }
        }

        return await _fallback.GetResponseAsync(messages, FallbackOptions(options), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        CircuitBreaker breaker = GetCircuit(options);
        if (!breaker.TryAcquirePermit(out CircuitPermit permit, out CircuitRejection rejection))
        {
            if (_fallback is null)
            {
                throw rejection.ToException();
            }

            await foreach (ChatResponseUpdate update in _fallback.GetStreamingResponseAsync(messages, FallbackOptions(options), cancellationToken).ConfigureAwait(false))
            {
                yield return update;
            }

            yield break;
        }

        TimeProvider time = breaker.TimeProvider;
        long started = time.GetTimestamp();
        bool fallBack = false;
        IAsyncEnumerator<ChatResponseUpdate>? updates = null;
        try
        {
            updates = base.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        }
        catch (Exception ex)
        {
            if (permit.RecordOutcome(ex, cancellationToken) != CallOutcome.Failure || !FallsBackOnFailure(breaker))
            {
                throw;
            }

            fallBack = true;
        }

        if (updates is not null)
        {
            bool reported = false;
            bool completed = false;
            TimeSpan? firstToken = null;
            try
            {
                while (true)
                {
                    bool more = false;
                    try
                    {
                        more = await updates.MoveNextAsync().ConfigureAwait(false);
                    }
                    catch (Exception ex)
                    {
                        // The stream broke midway (or never started): a failure, unless it was the caller's cancellation —
                        // and even then a failure when the model had already been too slow to start.
                        reported = true;
                        bool handled;
                        if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested
                            && SlowFirstToken(breaker.Name, firstToken, time.GetElapsedTime(started)) is { } slow)
                        {
                            permit.RecordFailure(slow);
                            handled = false; // still the caller's cancellation: no fallback
                        }
                        else
                        {
                            handled = permit.RecordOutcome(ex, cancellationToken) == CallOutcome.Failure;
                        }

                        // Before the first update the caller has seen nothing, so the fallback can still answer whole;
                        // after it, switching models would splice two answers: the failure goes to the caller.
                        if (!handled || firstToken is not null || !FallsBackOnFailure(breaker))
                        {
                            throw;
                        }

                        fallBack = true;
                    }

                    if (fallBack || !more)
                    {
                        break;
                    }

                    firstToken ??= time.GetElapsedTime(started);
                    yield return updates.Current;
                }

                completed = true;
            }
            finally
            {
                try
                {
                    await updates.DisposeAsync().ConfigureAwait(false);
                }
                finally
                {
                    // Reported even when disposing the inner stream throws: an unreported permit would hold a half-open
                    // probe slot until the probe timeout.
                    if (!reported)
                    {
                        if (SlowFirstToken(breaker.Name, firstToken, time.GetElapsedTime(started)) is { } slow)
                        {
                            permit.RecordFailure(slow); // completed or not, the model was slow to start
                        }
                        else if (!completed)
                        {
                            permit.RecordIgnored(); // the consumer stopped reading: that says nothing about the model
                        }
                        else
                        {
                            permit.RecordSuccess();
                        }
                    }
                }
            }
        }

        if (fallBack)
        {
            await foreach (ChatResponseUpdate update in _fallback!.GetStreamingResponseAsync(messages, FallbackOptions(options), cancellationToken).ConfigureAwait(false))
            {
                yield return update;
            }
        }
    }

    [MemberNotNullWhen(true, nameof(_fallback))]
    private bool FallsBackOnFailure(CircuitBreaker breaker) => _fallback is not null && breaker.FallbackOnFailure;

    /// <summary>
    /// The slow-call failure of a stream whose first update came later than <see cref="CircuitBreakerChatClientOptions.TimeToFirstTokenThreshold"/>,
    /// or that has sent none after longer than it; <see langword="null"/> when it was in time or no threshold is set.
    /// </summary>
    private TimeoutException? SlowFirstToken(string circuit, TimeSpan? firstToken, TimeSpan elapsed)
    {
        if (_timeToFirstToken is not { } limit)
        {
            return null;
        }

        if (firstToken is { } ttft)
        {
            return ttft > limit
                ? new TimeoutException($"The first token of a streamed response from circuit '{circuit}' took {ttft.TotalSeconds:0.0}s (threshold {limit.TotalSeconds:0.0}s).")
                : null;
        }

        return elapsed > limit
            ? new TimeoutException($"A streamed response from circuit '{circuit}' sent no token in {elapsed.TotalSeconds:0.0}s (threshold {limit.TotalSeconds:0.0}s).")
            : null;
    }

    private ChatOptions? FallbackOptions(ChatOptions? options)
    {
        if (options is null && _fallbackModelId is null)
        {
            return null;
        }

        ChatOptions copy = options?.Clone() ?? new ChatOptions();
        copy.ModelId = _fallbackModelId; // never the primary model's id: the fallback is another model
        return copy;
    }
}
