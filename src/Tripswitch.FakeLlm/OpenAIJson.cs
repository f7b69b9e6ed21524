using System.Buffers;
using System.Text.Json;

namespace Tripswitch.FakeLlm;

/// <summary>Writes the JSON bodies of OpenAI's chat-completions API, in the shape the official clients parse.</summary>
internal static class OpenAIJson
{
    /// <summary>A whole completion: <c>{"id":…,"object":"chat.completion",…,"choices":[…],"usage":{…}}</c>.</summary>
    public static byte[] Completion(string id, long created, string model, string text, int promptTokens)
        => Write(writer =>
        {
            writer.WriteStartObject();
            WriteHeader(writer, id, "chat.completion", created, model);
            writer.WriteStartArray("choices");
            writer.WriteStartObject();
            writer.WriteNumber("index", 0);
            writer.WriteStartObject("message");
            writer.WriteString("role", "assistant");
            writer.WriteString("content", text);
            writer.WriteNull("refusal");
            writer.WriteEndObject();
            writer.WriteNull("logprobs");
            writer.WriteString("finish_reason", "stop");
            writer.WriteEndObject();
            writer.WriteEndArray();
            WriteUsage(writer, promptTokens, ChatRequest.CountTokens(text));
            writer.WriteEndObject();
        });

    /// <summary>
    /// One streaming chunk: <c>{"object":"chat.completion.chunk",…,"choices":[{"index":0,"delta":{…},"finish_reason":…}]}</c>.
    /// The first chunk carries the role, the last one the finish reason and an empty delta.
    /// </summary>
    public static byte[] Chunk(string id, long created, string model, bool first, string? content, bool last, bool includeUsage)
        => Write(writer =>
        {
            writer.WriteStartObject();
            WriteHeader(writer, id, "chat.completion.chunk", created, model);
            writer.WriteStartArray("choices");
            writer.WriteStartObject();
            writer.WriteNumber("index", 0);
            writer.WriteStartObject("delta");
            if (first)
            {
                writer.WriteString("role", "assistant");
                writer.WriteString("content", content ?? string.Empty);
                writer.WriteNull("refusal");
            }
            else if (content is not null)
            {
                writer.WriteString("content", content);
            }

            writer.WriteEndObject();
            writer.WriteNull("logprobs");
            if (last)
            {
                writer.WriteString("finish_reason", "stop");
            }
            else
            {
                writer.WriteNull("finish_reason");
            }

            writer.WriteEndObject();
            writer.WriteEndArray();
            if (includeUsage)
            {
                writer.WriteNull("usage");
            }

            writer.WriteEndObject();
        });

    /// <summary>The usage chunk sent after the last choice chunk when the request asked <c>stream_options.include_usage</c>.</summary>
    public static byte[] UsageChunk(string id, long created, string model, int promptTokens, int completionTokens)
        => Write(writer =>
        {
            writer.WriteStartObject();
            WriteHeader(writer, id, "chat.completion.chunk", created, model);
            writer.WriteStartArray("choices");
            writer.WriteEndArray();
            WriteUsage(writer, promptTokens, completionTokens);
            writer.WriteEndObject();
        });

    /// <summary><c>{"error":{"message":…,"type":…,"param":null,"code":…}}</c>.</summary>
    public static byte[] Error(string message, string type, string? code)
        => Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("message", message);
            writer.WriteString("type", type);
            writer.WriteNull("param");
            if (code is null)
            {
                writer.WriteNull("code");
            }
            else
            {
                writer.WriteString("code", code);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        });

    /// <summary><c>{"object":"list","data":[{"id":…,"object":"model","created":…,"owned_by":…}]}</c>.</summary>
    public static byte[] ModelList(IEnumerable<string> models, long created)
        => Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            foreach (string model in models)
            {
                writer.WriteStartObject();
                writer.WriteString("id", model);
                writer.WriteString("object", "model");
                writer.WriteNumber("created", created);
                writer.WriteString("owned_by", "tripswitch-fakellm");
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });

    private static void WriteHeader(Utf8JsonWriter writer, string id, string objectType, long created, string model)
    {
        writer.WriteString("id", id);
        writer.WriteString("object", objectType);
        writer.WriteNumber("created", created);
        writer.WriteString("model", model);
        writer.WriteString("system_fingerprint", "fp_tripswitch_fake");
    }

    private static void WriteUsage(Utf8JsonWriter writer, int promptTokens, int completionTokens)
    {
        writer.WriteStartObject("usage");
        writer.WriteNumber("prompt_tokens", promptTokens);
        writer.WriteNumber("completion_tokens", completionTokens);
        writer.WriteNumber("total_tokens", promptTokens + completionTokens);
        writer.WriteEndObject();
    }

    private static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
