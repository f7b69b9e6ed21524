// A user's app wired from the packages' READMEs: if a package misses a dependency, a type or an assembly, this fails
// to restore, build or run. It starts nothing that needs a network (the host is built, not run).
using Microsoft.Extensions.AI;
using Polly;
using Tripswitch;
using Tripswitch.Http;

var builder = WebApplication.CreateBuilder(args);
builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Tripswitch:Defaults:FailureThreshold"] = "2" });
builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch"))
    .UseRedis("127.0.0.1:6379", o => o.KeyPrefix = "consumer:");
builder.Services.AddHttpClient("inventory").AddCircuitBreakerHandler(o => o.Timeout = TimeSpan.FromSeconds(10));
builder.Services.AddHealthChecks().AddTripswitch();

WebApplication app = builder.Build();
app.MapTripswitchDashboard("/tripswitch");

CircuitBreakerRegistry registry = app.Services.GetRequiredService<CircuitBreakerRegistry>();
CircuitBreaker breaker = registry.Get("inventory");
for (int i = 0; i < 2; i++)
{
    try { breaker.Execute(() => throw new TimeoutException()); } catch (TimeoutException) { }
}

if (breaker.State != CircuitState.Open)
{
    Console.Error.WriteLine($"PackageConsumer: expected the circuit open after 2 failures (appsettings), it is {breaker.State}");
    return 1;
}

ResiliencePipeline pipeline = new ResiliencePipelineBuilder().AddTripswitch(registry.Get("billing")).Build();
if (pipeline.Execute(() => 42) != 42 || registry.Get("billing").GetSummary().Successful != 1)
{
    Console.Error.WriteLine("PackageConsumer: the Polly pipeline's call did not go through its circuit");
    return 1;
}

using var handler = new CircuitBreakerHandler(registry) { InnerHandler = new HttpClientHandler() };
IChatClient chat = new EchoChatClient().AsBuilder().UseCircuitBreaker(registry).Build(app.Services);
ChatResponse answer = await chat.GetResponseAsync("ping");
if (answer.Text != "ping" || registry.Get("echo/default").GetSummary().Successful != 1)
{
    Console.Error.WriteLine($"PackageConsumer: the chat client's call did not go through its circuit (answer '{answer.Text}')");
    return 1;
}

Console.WriteLine($"PackageConsumer: ok (Tripswitch {typeof(CircuitBreaker).Assembly.GetName().Version})");
return 0;

/// <summary>Answers with the last message's text.</summary>
internal sealed class EchoChatClient : IChatClient
{
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        => Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, messages.Last().Text)));

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        => throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null)
        => serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("echo") : null;

    public void Dispose()
    {
    }
}
