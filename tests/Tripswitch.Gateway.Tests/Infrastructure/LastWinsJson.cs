using System.Text.Json;
using System.Text.Unicode;

namespace Tripswitch.Gateway.Tests.Infrastructure;

/// <summary>
/// The test oracle: reads a body the way a provider's parser does (a duplicate key's last value wins), with
/// System.Text.Json's <see cref="JsonDocument"/>, and reports every top-level <c>model</c> it saw.
/// </summary>
internal static class LastWinsJson
{
    /// <summary>What a last-key-wins reader makes of a body.</summary>
    /// <param name="IsObject">Valid UTF-8 JSON, one object, within the depth limit.</param>
    /// <param name="ModelCount">How many top-level members are named <c>model</c> once unescaped.</param>
    /// <param name="Model">The last one's value, when it is a string of valid Unicode.</param>
    public readonly record struct Reading(bool IsObject, int ModelCount, string? Model)
    {
        /// <summary>Whether every reader agrees on the model: exactly one, a string.</summary>
        public bool Unambiguous => IsObject && ModelCount == 1 && Model is not null;
    }

    public static Reading Read(byte[] body, int maxDepth)
    {
        if (!Utf8.IsValid(body))
        {
            return default;
        }

        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = maxDepth });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return default;
            }

            int count = 0;
            JsonElement last = default;
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (IsModel(property))
                {
                    count++;
                    last = property.Value;
                }
            }

            return new Reading(true, count, count > 0 && last.ValueKind == JsonValueKind.String ? TryGetString(last) : null);
        }
        catch (JsonException)
        {
            return default;
        }
    }

    /// <summary>The values of the members other than <c>model</c>, as raw text in order: what a fallback must leave unchanged.</summary>
    public static string[] OtherValues(byte[] body)
    {
        using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 256 });
        return [.. document.RootElement.EnumerateObject().Where(static p => !IsModel(p)).Select(static p => p.Value.GetRawText())];
    }

    private static bool IsModel(JsonProperty property)
    {
        try
        {
            return property.NameEquals("model");
        }
        catch (InvalidOperationException)
        {
            return false; // a name with an escaped lone surrogate is not "model"
        }
    }

    private static string? TryGetString(JsonElement element)
    {
        try
        {
            return element.GetString();
        }
        catch (InvalidOperationException)
        {
            return null; // an escaped lone surrogate: no text to compare
        }
    }
}
