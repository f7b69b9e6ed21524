#region readme-openai
using System.ClientModel;            // packages: OpenAI (the official client), Tripswitch.Http
using System.ClientModel.Primitives;
using OpenAI;
using OpenAI.Chat;
using Tripswitch;
using Tripswitch.Http;
#endregion

namespace Docs.Snippets.Wiring;

internal static class OfficialOpenAIClient
{
    public static void Run(CircuitBreakerRegistry registry, string key)
    {
        #region readme-openai
        var http = new HttpClient(new CircuitBreakerHandler(registry, new()
        {
            KeySelector = _ => "openai/gpt-4.1",
            Timeout = TimeSpan.FromSeconds(60), // a hung call counts as a failure (the client's own timeout is invisible here)
        })
        {
            InnerHandler = new SocketsHttpHandler(),
        });
        var client = new ChatClient("gpt-4.1", new ApiKeyCredential(key), new OpenAIClientOptions
        {
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0), // the circuit decides when to try again
        });

        async Task<string> GetCompletion(string prompt)
        {
            try
            {
                ChatCompletion completion = await client.CompleteChatAsync(prompt);
                return completion.Content[0].Text;
            }
            catch (CircuitOpenException e)
            {
                return $"Service temporarily unavailable. {e.Message}";
            }
        }
        #endregion
    }
}
