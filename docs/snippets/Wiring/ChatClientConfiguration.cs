#region readme-chat-configuration
using Microsoft.Extensions.AI;
#endregion

namespace Docs.Snippets.Wiring;

internal static class ChatClientConfiguration
{
    public static void Run(WebApplicationBuilder builder, IChatClient primaryClient, IChatClient fallbackClient)
    {
        #region readme-chat-configuration
        // appsettings.json: "Chat": { "openai": { "FallbackModelId": "gpt-4.1-mini", "TimeToFirstTokenThreshold": "00:00:10" } }
        builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch")); // the registry (Tripswitch.Hosting): required
        builder.Services.AddCircuitBreakerChatClientOptions("openai", builder.Configuration.GetSection("Chat:openai"))
            .Configure(o => o.FallbackClient = fallbackClient); // a client: code only
        builder.Services.AddChatClient(primaryClient).UseCircuitBreaker("openai");
        #endregion
    }
}
