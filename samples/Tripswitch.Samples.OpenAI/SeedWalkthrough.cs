using System.Globalization;
using Tripswitch.FakeLlm;

namespace Tripswitch.Samples.OpenAI;

/// <summary>
/// The seed's "Using the Circuit Breaker" example, run for real against FakeLlm: ten calls while the model fails, the
/// fallback answering once the circuit is open, a 429 whose <c>Retry-After</c> keeps the circuit open longer than its
/// recovery timeout, and the recovery (two successful probes close it).
/// </summary>
public sealed class SeedWalkthrough
{
    /// <summary>The model the walkthrough calls.</summary>
    public const string Model = "gpt-4.1";

    /// <summary>The seed's options, with a 2-second recovery timeout instead of 60 s so the sample finishes in seconds.</summary>
    public static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How long the 429 asks callers to wait: longer than the recovery timeout, so the server's wish decides.</summary>
    public static readonly TimeSpan RateLimitRetryAfter = TimeSpan.FromSeconds(3);

    private readonly FakeLlmServer _server;
    private readonly TextWriter _out;
    private readonly TimeProvider _time;
    private readonly Func<TimeSpan, CancellationToken, Task> _wait;

    /// <summary>Creates the walkthrough.</summary>
    /// <param name="server">The fake OpenAI server; the walkthrough scripts its <see cref="Model"/>.</param>
    /// <param name="output">Where the walkthrough writes.</param>
    /// <param name="time">The circuit's clock.</param>
    /// <param name="wait">Waits on that clock; <see langword="null"/> for <see cref="Task.Delay(TimeSpan, TimeProvider, CancellationToken)"/>. Tests pass one that advances a fake clock.</param>
    public SeedWalkthrough(FakeLlmServer server, TextWriter output, TimeProvider time, Func<TimeSpan, CancellationToken, Task>? wait = null)
    {
        _server = server;
        _out = output;
        _time = time;
        _wait = wait ?? ((delay, token) => Task.Delay(delay, time, token));
    }

    /// <summary>Runs the walkthrough.</summary>
    /// <param name="cancellationToken">Stops it.</param>
    /// <returns>The circuit's summary at the end (closed again when all went as expected).</returns>
    public async Task<CircuitSummary> RunAsync(CancellationToken cancellationToken = default)
    {
        // The seed: CircuitBreaker(failure_threshold=5, recovery_timeout=60.0, success_threshold=2).
        var registry = new CircuitBreakerRegistry(new CircuitBreakerOptions
        {
            FailureThreshold = 5,
            RecoveryTimeout = RecoveryTimeout,
            SuccessThreshold = 2,
            TimeProvider = _time,
        });
        registry.StateChanged += (_, transition) =>
            _out.WriteLine($"           circuit {Name(transition.From)} -> {Name(transition.To)}");

        using var chat = new ProtectedChat(_server.ApiEndpoint, Model, registry);
        FakeModel model = _server.Model(Model);

        await _out.WriteLineAsync($"Tripswitch + the official OpenAI .NET client, against FakeLlm at {_server.ApiEndpoint} (offline, no API key).");
        await _out.WriteLineAsync($"Circuit '{chat.CircuitKey}': opens after 5 failures in a row, probes after {Seconds(RecoveryTimeout)}, closes after 2 successful probes.");
        await _out.WriteLineAsync("The OpenAI client's own retries are off (RetryPolicy = new ClientRetryPolicy(maxRetries: 0)): each call is one request the circuit sees.");
        await _out.WriteLineAsync();

        // 1. The seed's loop: two answers, then the model fails with HTTP 500 until the circuit opens.
        await _out.WriteLineAsync($"1. The seed's loop. {Model} answers twice, then fails with HTTP 500 on every request.");
        model.Enqueue(FakeLlmBehavior.Reply("Hello! How can I help you today?"), times: 2).Always(FakeLlmBehavior.ServerError());
        for (int i = 1; i <= 10; i++)
        {
            string result = await chat.GetCompletionAsync("Hello", cancellationToken);
            await _out.WriteLineAsync($"Request {i}: {Name(chat.Circuit.State)} - {Shorten(result, 50)}...");
        }

        await _out.WriteLineAsync($"FakeLlm received {model.Requests} of the 10 requests; the circuit answered the other {10 - model.Requests} itself.");
        await _out.WriteLineAsync();

        // 2. A rate limit: the probe after the recovery timeout gets 429 "come back in 3 s".
        await _out.WriteLineAsync($"2. After {Seconds(RecoveryTimeout)} one probe may go; {Model} answers 429 with Retry-After: {RateLimitRetryAfter.TotalSeconds:0}.");
        model.Always(FakeLlmBehavior.RateLimited(RateLimitRetryAfter));
        await _wait(RecoveryTimeout, cancellationToken);
        string probe = await chat.GetCompletionAsync("Hello", cancellationToken);
        await _out.WriteLineAsync($"Probe:      {Name(chat.Circuit.State)} - {Shorten(probe, 70)}...");
        TimeSpan pause = RecoveryTimeout + TimeSpan.FromMilliseconds(100);
        await _wait(pause, cancellationToken);
        await _out.WriteLineAsync($"{Seconds(pause)} later (past the recovery timeout, before the server's {RateLimitRetryAfter.TotalSeconds:0} s):");
        string rejected = await chat.GetCompletionAsync("Hello", cancellationToken);
        await _out.WriteLineAsync($"Request:    {Name(chat.Circuit.State)} - {rejected}");
        await _out.WriteLineAsync();

        // 3. Recovery: the model is healthy again; two successful probes close the circuit.
        await _out.WriteLineAsync($"3. {Model} is healthy again. Once the server's {RateLimitRetryAfter.TotalSeconds:0} s are over, two successful probes close the circuit.");
        model.Always(FakeLlmBehavior.Reply("Hello again! Back in service."));
        await _wait(RateLimitRetryAfter - pause, cancellationToken);
        for (int i = 1; i <= 3; i++)
        {
            string result = await chat.GetCompletionAsync("Hello", cancellationToken);
            await _out.WriteLineAsync($"Request {i}: {Name(chat.Circuit.State)} - {result}");
        }

        CircuitSummary summary = chat.Circuit.GetSummary();
        await _out.WriteLineAsync();
        await _out.WriteLineAsync($"Summary: {summary}");
        await _out.WriteLineAsync($"FakeLlm received {model.Requests} requests for {Model} in all.");
        return summary;
    }

    private static string Name(CircuitState state) => state switch
    {
        CircuitState.Closed => "closed",
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "half_open",
        _ => state.ToString().ToLowerInvariant(),
    };

    private static string Seconds(TimeSpan duration) => string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0.#} s");

    private static string Shorten(string text, int length) => text.Length <= length ? text : text[..length];
}
