#region package-ai
using Microsoft.Extensions.AI;
using Tripswitch;
#endregion

namespace Docs.Snippets.Packages;

internal static class AI
{
    public static async Task Run(IChatClient primary, IChatClient secondary)
    {
        #region package-ai
        var registry = new CircuitBreakerRegistry();
        IChatClient chat = primary.AsBuilder()
            .UseCircuitBreaker(registry, o => o.FallbackClient = secondary) // secondary answers while the model's circuit is open
            .Build();

        ChatResponse answer = await chat.GetResponseAsync("Hello");
        #endregion
    }
}
