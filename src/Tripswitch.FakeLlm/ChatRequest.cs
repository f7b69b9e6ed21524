using System.Text.Json;

namespace Tripswitch.FakeLlm;

/// <summary>The parts of a chat-completion request body the fake server looks at.</summary>
internal sealed record ChatRequest(string Model, bool Stream, bool IncludeUsage, int PromptTokens)
{
    /// <summary>Reads the request body; <see langword="null"/> with an error message when it is not a valid request.</summary>
    public static ChatRequest? TryRead(JsonElement body, out string? error)
    {
        error = null;
        if (body.ValueKind != JsonValueKind.Object)
        {
            error = "The request body must be a JSON object.";
            return null;
        }

        if (!body.TryGetProperty("model", out JsonElement model) || model.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(model.GetString()))
        {
            error = "you must provide a model parameter";
            return null;
        }

        if (!body.TryGetProperty("messages", out JsonElement messages) || messages.ValueKind != JsonValueKind.Array)
        {
            error = "Missing required parameter: 'messages'.";
            return null;
        }

        bool stream = body.TryGetProperty("stream", out JsonElement streamValue) && streamValue.ValueKind == JsonValueKind.True;
        bool includeUsage = body.TryGetProperty("stream_options", out JsonElement streamOptions)
            && streamOptions.ValueKind == JsonValueKind.Object
            && streamOptions.TryGetProperty("include_usage", out JsonElement usage)
            && usage.ValueKind == JsonValueKind.True;

        int promptTokens = 0;
        foreach (JsonElement message in messages.EnumerateArray())
        {
            if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out JsonElement content))
            {
                promptTokens += CountTokens(content);
            }
        }

        return new ChatRequest(model.GetString()!, stream, includeUsage, promptTokens);
    }

    /// <summary>A rough token count: words. Good enough for a fake.</summary>
    public static int CountTokens(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;

    private static int CountTokens(JsonElement content)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                return CountTokens(content.GetString()!);
            case JsonValueKind.Array:
                int tokens = 0;
                foreach (JsonElement part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out JsonElement text) && text.ValueKind == JsonValueKind.String)
                    {
                        tokens += CountTokens(text.GetString()!);
                    }
                }

                return tokens;
            default:
                return 0;
        }
    }
}
