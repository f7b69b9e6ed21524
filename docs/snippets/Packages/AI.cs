#region package-ai
// packages: Tripswitch.AI, Microsoft.Extensions.AI.OpenAI
using Microsoft.Extensions.AI;
using OpenAI;
using Tripswitch;
#endregion

namespace Docs.Snippets.Packages;

internal static class AI
{
    public static async Task Run()
    {
        #region package-ai
        var openAI = new OpenAIClient(Environment.GetEnvironmentVariable("OPENAI_API_KEY") ?? throw new InvalidOperationException("Set OPENAI_API_KEY."));
        IChatClient primaryClient = openAI.GetChatClient("gpt-4.1").AsIChatClient();
        IChatClient fallbackClient = openAI.GetChatClient("gpt-4.1-mini").AsIChatClient();

        var registry = new CircuitBreakerRegistry();
        IChatClient chat = primaryClient.AsBuilder()
            .UseCircuitBreaker(registry, o => o.FallbackClient = fallbackClient) // answers while gpt-4.1's circuit is open
            .Build();

        ChatResponse answer = await chat.GetResponseAsync("Hello");
        #endregion
    }
}
