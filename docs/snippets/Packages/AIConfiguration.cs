#region package-ai-configuration
// packages: Tripswitch.AI, Tripswitch.Hosting, Microsoft.Extensions.AI.OpenAI (an ASP.NET Core app)
using Microsoft.Extensions.AI;
using OpenAI;
#endregion

namespace Docs.Snippets.Packages;

internal static class AIConfiguration
{
    public static void Run(string[] args)
    {
        #region package-ai-configuration
        var builder = WebApplication.CreateBuilder(args);
        // Required: UseCircuitBreaker without a registry uses the one AddTripswitch registers.
        builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch"));

        // appsettings.json: "Chat": { "openai": { "FallbackModelId": "gpt-4.1-mini", "TimeToFirstTokenThreshold": "00:00:10" } }
        builder.Services.AddCircuitBreakerChatClientOptions("openai", builder.Configuration.GetSection("Chat:openai")); // validated at start-up
        var openAI = new OpenAIClient(builder.Configuration["OpenAI:ApiKey"] ?? throw new InvalidOperationException("Set OpenAI:ApiKey."));
        builder.Services.AddChatClient(openAI.GetChatClient("gpt-4.1").AsIChatClient()).UseCircuitBreaker("openai");
        #endregion
    }
}
