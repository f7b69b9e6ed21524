using System.Net;
using System.Text;
using System.Text.Json;

namespace Tripswitch.Gateway.Tests.Soak;

/// <summary>What a soak client does with its request.</summary>
internal enum ClientPlan
{
    /// <summary>Reads the whole answer.</summary>
    ReadAll,

    /// <summary>Streams, and goes away after the first event.</summary>
    LeaveMidStream,

    /// <summary>Cancels after a few milliseconds, wherever the request is by then.</summary>
    CancelEarly,
}

/// <summary>
/// Sends one chat request to a gateway the way the soak's clients do and classifies how it ended
/// (<see cref="SoakOutcome"/>). Every request is bounded by <see cref="RequestTimeout"/>: a gateway that never answers is
/// a finding, not a hung test.
/// </summary>
internal static class SoakClient
{
    /// <summary>Far above any answer's time (the provider timeout is 5 s): reaching it means the gateway hung.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    public static async Task<(SoakOutcome Outcome, int Status, string? Finding)> SendAsync(HttpClient http, Uri gateway, string model, bool stream, ClientPlan plan, string requestId, CancellationToken stop)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(RequestTimeout);
        using var cancelEarly = new CancellationTokenSource();
        using var either = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancelEarly.Token);
        if (plan == ClientPlan.CancelEarly)
        {
            cancelEarly.CancelAfter(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 60)));
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway, "v1/chat/completions"))
        {
            Content = new StringContent($$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"soak"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(SoakUpstream.RequestIdHeader, requestId);
        int status = 0;
        try
        {
            using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, either.Token);
            status = (int)response.StatusCode;
            return await ClassifyAsync(response, stream, plan, either.Token);
        }
        catch (OperationCanceledException) when (cancelEarly.IsCancellationRequested)
        {
            return (SoakOutcome.ClientCancelled, status, null);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !stop.IsCancellationRequested)
        {
            return (SoakOutcome.Unanswered, status, $"{model} stream={stream}: no answer within {RequestTimeout} (status so far {status})");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException && status == 0)
        {
            return (SoakOutcome.Unanswered, 0, $"{model} stream={stream}: no response from the gateway: {ex.GetType().Name}: {ex.Message} {ex.InnerException?.Message}");
        }
    }

    private static async Task<(SoakOutcome, int, string?)> ClassifyAsync(HttpResponseMessage response, bool stream, ClientPlan plan, CancellationToken token)
    {
        int status = (int)response.StatusCode;
        if (response.IsSuccessStatusCode)
        {
            return await ReadSuccessAsync(response, stream, plan, token);
        }

        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(token);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return (SoakOutcome.Unanswered, status, $"{status}: the error body was cut: {ex.Message}");
        }

        if (status == (int)HttpStatusCode.InternalServerError)
        {
            return body.Contains(SoakUpstream.Marker, StringComparison.Ordinal)
                ? (SoakOutcome.UpstreamServerError, status, null)
                : (SoakOutcome.Unanswered, status, $"500 from the gateway itself: {Truncate(body)}");
        }

        bool allowed = status is >= 400 and < 500 or 502 or 503 or 504;
        return allowed && IsOpenAIError(body)
            ? (SoakOutcome.OpenAIError, status, null)
            : (SoakOutcome.Unanswered, status, $"{status} is not an OpenAI-shaped error with an allowed status: {Truncate(body)}");
    }

    private static async Task<(SoakOutcome, int, string?)> ReadSuccessAsync(HttpResponseMessage response, bool stream, ClientPlan plan, CancellationToken token)
    {
        int status = (int)response.StatusCode;
        try
        {
            if (!stream)
            {
                string body = await response.Content.ReadAsStringAsync(token);
                return IsCompletion(body)
                    ? (SoakOutcome.Answered, status, null)
                    : (SoakOutcome.Unanswered, status, $"{status} with a body that is not a completion: {Truncate(body)}");
            }

            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(token));
            while (await reader.ReadLineAsync(token) is { } line)
            {
                if (line == "data: [DONE]")
                {
                    return (SoakOutcome.Answered, status, null);
                }

                if (plan == ClientPlan.LeaveMidStream && line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    return (SoakOutcome.ClientLeftMidStream, status, null); // disposing the response closes the connection
                }
            }

            return (SoakOutcome.AnsweredThenCut, status, null); // ended without [DONE]
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return (SoakOutcome.AnsweredThenCut, status, null);
        }
    }

    private static bool IsOpenAIError(string body)
    {
        try
        {
            using JsonDocument json = JsonDocument.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("error", out JsonElement error)
                && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("message", out JsonElement message)
                && message.ValueKind == JsonValueKind.String;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool IsCompletion(string body)
    {
        try
        {
            using JsonDocument json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("choices", out JsonElement choices) && choices.GetArrayLength() > 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
