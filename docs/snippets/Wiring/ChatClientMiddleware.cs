#region readme-chat-client
using Microsoft.Extensions.AI; // packages: Tripswitch.AI, Microsoft.Extensions.AI.OpenAI (AsIChatClient)
using OpenAI;
#endregion
using Tripswitch;

namespace Docs.Snippets.Wiring;

internal static class ChatClientMiddleware
{
    public static void Run(OpenAIClient openAIClient, CircuitBreakerRegistry registry, IServiceProvider services)
    {
        #region readme-chat-client
        IChatClient chat = openAIClient.GetChatClient("gpt-4.1").AsIChatClient()
            .AsBuilder()
            .UseCircuitBreaker(registry, o =>
            {
                o.FallbackClient = openAIClient.GetChatClient("gpt-4.1-mini").AsIChatClient(); // answers while gpt-4.1's circuit is open
                o.TimeToFirstTokenThreshold = TimeSpan.FromSeconds(10);                         // a slow first token is a slow call
            })
            .Build(services);
        #endregion
    }
}
