using System.ClientModel;
using System.ClientModel.Primitives;
using OpenAI;
using OpenAI.Chat;
using Tripswitch.Http;

namespace Tripswitch.Demo;

/// <summary>
/// One official OpenAI <see cref="ChatClient"/> per model, each sending through an <see cref="HttpClient"/> whose
/// <see cref="CircuitBreakerHandler"/> puts its requests in the circuit <c>openai/&lt;model&gt;</c> of one registry:
/// a model's outage or rate limit leaves the other models' circuits alone.
/// </summary>
/// <remarks>
/// The OpenAI client's own retries are off (<c>new ClientRetryPolicy(maxRetries: 0)</c>): every call is exactly one
/// request the circuit sees, and the circuit, not the client, decides when to try a failing model again (the client
/// would otherwise wait out a 429 by itself). The handler counts 5xx, 408, 429, transport errors and its own timeout as
/// failures, and keeps a circuit open as long as a 429's Retry-After asks.
/// </remarks>
internal sealed class ModelClients : IDisposable
{
    private readonly Dictionary<string, ChatClient> _clients = new(StringComparer.Ordinal);
    private readonly List<HttpClient> _http = [];

    public ModelClients(Uri endpoint, IEnumerable<string> models, CircuitBreakerRegistry registry, TimeSpan requestTimeout)
    {
        foreach (string model in models)
        {
            string key = ScenarioSettings.CircuitKey(model);
            var handler = new CircuitBreakerHandler(registry, new CircuitBreakerHandlerOptions
            {
                KeySelector = _ => key,
                Timeout = requestTimeout, // a hung request counts as a failure
            })
            {
                InnerHandler = new SocketsHttpHandler { UseProxy = false },
            };
            var http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
            _http.Add(http);
            _clients[model] = new ChatClient(model, new ApiKeyCredential("demo-key"), new OpenAIClientOptions
            {
                Endpoint = endpoint,
                Transport = new HttpClientPipelineTransport(http),
                RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            });
        }
    }

    public ChatClient this[string model] => _clients[model];

    /// <summary>Finds the <see cref="CircuitOpenException"/> in <paramref name="exception"/> or its inner exceptions.</summary>
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

    public void Dispose()
    {
        foreach (HttpClient http in _http)
        {
            http.Dispose();
        }
    }
}
