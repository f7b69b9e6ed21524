using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Unicode;
using Tripswitch.Gateway.Configuration;

namespace Tripswitch.Gateway.Forwarding;

/// <summary>
/// The one reading of a request body: it must be a single JSON object (valid UTF-8, nothing after it, nested at most
/// <see cref="GatewayDefaults.MaxRequestBodyDepth"/> deep) with exactly one top-level <c>model</c>, a string. Property
/// names are compared unescaped, so <c>"mod\u0065l"</c> is <c>model</c>. A body that passes means the same to every
/// JSON parser, including the providers' last-key-wins ones: what the gateway routes is what the provider serves.
/// </summary>
/// <remarks>Pure and allocation-light: one forward pass with <see cref="Utf8JsonReader"/>. Never throws; every refusal is a <see cref="BodyProblem"/>.</remarks>
internal static class RequestJson
{
    private static readonly JsonReaderOptions s_options = new()
    {
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        MaxDepth = GatewayDefaults.MaxRequestBodyDepth,
    };

    /// <summary>
    /// Reads <paramref name="json"/>: on success, the model and where its JSON string token (quotes included) is, so a
    /// fallback can replace exactly that token; otherwise what is wrong with the body.
    /// </summary>
    public static bool TryReadModel(ReadOnlySpan<byte> json, out ModelToken model, out BodyProblem problem)
    {
        model = default;
        problem = default;
        if (!Utf8.IsValid(json))
        {
            // Checked first and whole: Utf8JsonReader does not validate the UTF-8 inside strings it is not asked to decode.
            problem = new BodyProblem("invalid_json", "The request body is not valid UTF-8.");
            return false;
        }

        var reader = new Utf8JsonReader(json, s_options);
        bool found = false;
        try
        {
            if (!reader.Read())
            {
                problem = new BodyProblem("invalid_json", "The request body is empty: send a JSON object with a string \"model\".");
                return false;
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                problem = new BodyProblem("invalid_body", $"The request body must be a JSON object; it is {Describe(reader.TokenType)}.");
                return false;
            }

            // Reads to the end, so a body is refused whole (trailing data, truncation, depth) before anything is forwarded.
            while (reader.Read())
            {
                if (reader.CurrentDepth != 1 || reader.TokenType != JsonTokenType.PropertyName || !IsModel(ref reader))
                {
                    continue;
                }

                if (found)
                {
                    problem = new BodyProblem("duplicate_model", "The request body has more than one top-level \"model\": send exactly one.");
                    return false;
                }

                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    problem = new BodyProblem("invalid_model", $"The request body's \"model\" must be a string; it is {Describe(reader.TokenType)}.");
                    return false;
                }

                if (!TryGetText(ref reader, out string? value))
                {
                    problem = new BodyProblem("invalid_model", "The request body's \"model\" is not valid Unicode text.");
                    return false;
                }

                int start = (int)reader.TokenStartIndex;
                model = new ModelToken(value, start, (int)reader.BytesConsumed - start);
                found = true;
            }
        }
        catch (JsonException ex)
        {
            // The reader's message says what and where ("'x' is invalid after a value. LineNumber: 0 | BytePositionInLine: 9."); it quotes at most one character.
            problem = new BodyProblem("invalid_json", "The request body is not valid JSON: " + ex.Message);
            return false;
        }

        if (!found)
        {
            problem = new BodyProblem("missing_model", "The request body has no top-level \"model\": send a JSON object with a string \"model\".");
        }

        return found;
    }

    /// <summary>Whether the property name under the reader is <c>model</c> once unescaped.</summary>
    private static bool IsModel(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueSpan.SequenceEqual("model"u8);
        }

        try
        {
            return reader.ValueTextEquals("model"u8);
        }
        catch (InvalidOperationException)
        {
            return false; // an escaped lone surrogate ("\ud800"): such a name is not "model" for any reader
        }
    }

    /// <summary>The string under the reader; <see langword="false"/> when it holds an escaped lone surrogate (no text any provider could match).</summary>
    private static bool TryGetText(ref Utf8JsonReader reader, [NotNullWhen(true)] out string? value)
    {
        try
        {
            value = reader.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            value = null;
            return false;
        }
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartArray => "an array",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };
}

/// <summary>A body's top-level <c>model</c>: its value, and where its JSON string token (quotes included) starts and how long it is.</summary>
internal readonly record struct ModelToken(string Value, int Start, int Length);

/// <summary>Why a request body was refused: an OpenAI error <c>code</c> and a message for the client.</summary>
internal readonly record struct BodyProblem(string Code, string Message);
