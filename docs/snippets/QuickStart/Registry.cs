using Tripswitch;

namespace Docs.Snippets.QuickStart;

internal static class Registry
{
    public static void Run(ICompletionClient client)
    {
        #region readme-registry
        var registry = new CircuitBreakerRegistry(new CircuitBreakerRegistryOptions
        {
            Defaults = new CircuitBreakerOptions { FailureThreshold = 5 },
            Capacity = 10_000, // past it, idle closed breakers are evicted, least recently used first
        }.Configure("openai/gpt-4.1", o => o.FailureThreshold = 3));

        string Call(string model, string prompt) =>
            registry.Execute($"openai/{model}", () => client.Chat(model, prompt));

        Call("gpt-4.1", "Hello");
        Call("gpt-4.1-mini", "Hello");
        Console.WriteLine(string.Join(", ", registry.Status())); // [openai/gpt-4.1, Closed], [openai/gpt-4.1-mini, Closed]
        #endregion
    }
}
