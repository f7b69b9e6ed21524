using System.ClientModel;
using System.ClientModel.Primitives;
using OpenAI;
using OpenAI.Chat;
using Tripswitch.Http;

namespace Tripswitch.Samples.OpenAI;

/// <summary>
/// The seed's <c>get_completion</c> in C#: the official OpenAI .NET client calling one model through a Tripswitch
/// circuit, answering "Service temporarily unavailable. …" while the circuit is open.
/// </summary>
/// <remarks>
/// <para>
/// The circuit sits in the <see cref="HttpClient"/> the OpenAI client sends through
/// (<see cref="HttpClientPipelineTransport"/>): a <see cref="CircuitBreakerHandler"/> counts 5xx, 408, 429 and
/// transport errors, and keeps the circuit open as long as a 429's <c>Retry-After</c> / <c>retry-after-ms</c> /
/// <c>x-ratelimit-reset-*</c> asks.
/// </para>
/// <para>
/// What surfaces from the OpenAI client (version 2.15.0, found by the tests): the client's transport wraps an
/// <see cref="HttpRequestException"/> into a <see cref="ClientResultException"/> with <c>Status</c> 0 and lets other
/// exceptions through, so the handler's <see cref="CircuitOpenException"/> reaches the caller unwrapped, from <c>CompleteChatAsync</c> and from the
/// first step of a <c>CompleteChatStreamingAsync</c> enumeration alike, and so does the
/// <see cref="TaskCanceledException"/> (inner <see cref="TimeoutException"/>) of the handler's
/// <see cref="CircuitBreakerHandlerOptions.Timeout"/>. Error responses (429, 5xx) surface as
/// <see cref="ClientResultException"/> with their status. The fallback below still looks through inner exceptions, so
/// a client that starts wrapping it keeps working.
/// </para>
/// <para>
/// The client's own retries are switched off (<see cref="ClientRetryPolicy"/> with <c>maxRetries: 0</c>). Left on,
/// the default policy resends a request that failed with a rate limit, a server error or a transport error (up to
/// three retries, waiting in between): one call to <see cref="GetCompletionAsync"/> could count as several failures,
/// or hide a failure the circuit still counted (the tests show a call that became two requests), and the client would
/// wait out a 429 itself. The circuit, not the client, decides when to try again: with retries off, every call is
/// exactly one request the circuit sees.
/// </para>
/// </remarks>
public sealed class ProtectedChat : IDisposable
{
    private readonly HttpClient _http;

    /// <summary>Creates a chat client for <paramref name="model"/> whose requests go through the circuit <c>openai/{model}</c> of <paramref name="registry"/>.</summary>
    /// <param name="endpoint">The API endpoint, e.g. <c>https://api.openai.com/v1</c> or FakeLlm's <c>http://127.0.0.1:PORT/v1</c>.</param>
    /// <param name="model">The model, e.g. <c>gpt-4.1</c>.</param>
    /// <param name="registry">Where the circuit lives (its options: threshold, recovery timeout, time provider).</param>
    /// <param name="apiKey">The API key; FakeLlm accepts any.</param>
    /// <param name="handlerOptions">Handler options (a timeout, a 503 instead of exceptions); the key selector is set here.</param>
    public ProtectedChat(Uri endpoint, string model, CircuitBreakerRegistry registry, string apiKey = "test", CircuitBreakerHandlerOptions? handlerOptions = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(registry);
        CircuitKey = $"openai/{model}";
        Registry = registry;

        // One circuit per model (the seed's registry key "openai/gpt-4.1"), not per host: one model's outage or rate
        // limit leaves the others alone.
        handlerOptions ??= new CircuitBreakerHandlerOptions();
        handlerOptions.KeySelector = _ => CircuitKey;
        _http = new HttpClient(new CircuitBreakerHandler(registry, handlerOptions) { InnerHandler = new SocketsHttpHandler() })
        {
            // The OpenAI pipeline has its own network timeout (OpenAIClientOptions.NetworkTimeout); for a timeout the
            // circuit counts, set CircuitBreakerHandlerOptions.Timeout.
            Timeout = Timeout.InfiniteTimeSpan,
        };

        Client = new ChatClient(model, new ApiKeyCredential(apiKey), new OpenAIClientOptions
        {
            Endpoint = endpoint,
            Transport = new HttpClientPipelineTransport(_http),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0), // the circuit decides when to try again (see remarks)
        });
    }

    /// <summary>The circuit's key in the registry: <c>openai/{model}</c>.</summary>
    public string CircuitKey { get; }

    /// <summary>The registry holding the circuit.</summary>
    public CircuitBreakerRegistry Registry { get; }

    /// <summary>The circuit (created on first use).</summary>
    public CircuitBreaker Circuit => Registry.Get(CircuitKey);

    /// <summary>The OpenAI chat client, for calls of your own through the same circuit (streaming, tools…).</summary>
    public ChatClient Client { get; }

    /// <summary>
    /// The seed's <c>get_completion(prompt)</c>: the model's answer; <c>Service temporarily unavailable. {reason}</c>
    /// while the circuit is open; <c>Error: {message}</c> when the call failed with a rate limit, a server error, a
    /// transport error or the handler's timeout (each of them recorded as a failure by the circuit).
    /// </summary>
    /// <param name="prompt">The user's message.</param>
    /// <param name="cancellationToken">The caller's token; cancelling is never counted as a failure.</param>
    /// <returns>The answer or the fallback text.</returns>
    public async Task<string> GetCompletionAsync(string prompt, CancellationToken cancellationToken = default)
    {
        try
        {
            ClientResult<ChatCompletion> result = await Client.CompleteChatAsync([new UserChatMessage(prompt)], cancellationToken: cancellationToken);
            return result.Value.Content.Count > 0 ? result.Value.Content[0].Text : string.Empty;
        }
        catch (Exception e) when (FindCircuitOpen(e) is { } open)
        {
            // The fallback while the circuit is open: the call never left this process.
            return $"Service temporarily unavailable. {open.Message}";
        }
        catch (ClientResultException e) when (e.Status is 408 or 429 or >= 500 || e.InnerException is HttpRequestException)
        {
            // The seed's RateLimitError / InternalServerError (plus transport errors): recorded as failures by the circuit.
            return $"Error: {OneLine(e.Message)}";
        }
        catch (OperationCanceledException e) when (e.InnerException is TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            // The handler's Timeout (not the caller's cancellation): recorded as a failure by the circuit.
            return $"Error: {e.Message}";
        }
    }

    /// <summary>Finds the <see cref="CircuitOpenException"/> in <paramref name="exception"/> or its inner exceptions.</summary>
    /// <param name="exception">What a call threw.</param>
    /// <returns>The rejection, or <see langword="null"/> when the circuit did not reject the call.</returns>
    public static CircuitOpenException? FindCircuitOpen(Exception? exception)
    {
        for (int depth = 0; exception is not null && depth < 16; depth++)
        {
            if (exception is CircuitOpenException open)
            {
                return open;
            }

            exception = exception is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0] : exception.InnerException;
        }

        return null;
    }

    private static string OneLine(string message)
        => string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();
}
