using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Tripswitch.Gateway.Forwarding;

/// <summary>Error responses in the OpenAI API's shape (<c>{"error":{"message","type","param","code"}}</c>), which the official clients surface cleanly.</summary>
internal static class OpenAIErrors
{
    public static Task WriteAsync(HttpContext context, int status, string type, string code, string message, TimeSpan? retryAfter = null)
    {
        HttpResponse response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        if (retryAfter is { } wait)
        {
            // Whole seconds, rounded up, so a client that honours it never comes back early.
            response.Headers.RetryAfter = Math.Max(1, Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        // Relaxed escaping: the body is JSON for API clients, never HTML, so quotes in messages stay readable.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartObject("error");
            json.WriteString("message", message);
            json.WriteString("type", type);
            json.WriteNull("param");
            json.WriteString("code", code);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        response.ContentLength = buffer.WrittenCount;
        return response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).AsTask();
    }

    public static Task UnknownModel(HttpContext context, string model)
        => WriteAsync(context, StatusCodes.Status404NotFound, "invalid_request_error", "model_not_found", $"The model '{Truncate(model)}' is not served by this gateway; GET /v1/models lists the models it serves.");

    /// <summary>400 for a body the gateway refuses to read (see <see cref="RequestJson"/>): nothing was forwarded.</summary>
    public static Task InvalidBody(HttpContext context, BodyProblem problem)
        => WriteAsync(context, StatusCodes.Status400BadRequest, "invalid_request_error", problem.Code, problem.Message);

    /// <summary>502 for an upstream that answered with a redirect: the gateway never follows one, nor passes its <c>Location</c> on.</summary>
    public static Task UpstreamRedirected(HttpContext context, string circuit, int status)
        => WriteAsync(context, StatusCodes.Status502BadGateway, "upstream_error", "upstream_redirect", string.Create(CultureInfo.InvariantCulture, $"The upstream of '{circuit}' answered {status}, a redirect, which this gateway does not follow: check the provider's BaseUrl."));

    public static Task TooLarge(HttpContext context, int limit)
        => WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "invalid_request_error", "request_too_large", string.Create(CultureInfo.InvariantCulture, $"The request body is larger than this gateway accepts ({limit} bytes)."));

    public static Task Unauthorized(HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return WriteAsync(context, StatusCodes.Status401Unauthorized, "invalid_request_error", "invalid_api_key", "Missing or invalid gateway key: send it as 'Authorization: Bearer <key>'.");
    }

    // Browsers and limits: a body that is not JSON, a web origin not allowed, a client over its concurrency limit.

    public static Task UnsupportedMediaType(HttpContext context)
        => WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, "invalid_request_error", "unsupported_media_type", "The request body must be JSON: send 'Content-Type: application/json'.");

    public static Task OriginNotAllowed(HttpContext context, string origin)
        => WriteAsync(context, StatusCodes.Status403Forbidden, "invalid_request_error", "origin_not_allowed", $"Web pages from '{Truncate(origin)}' may not call this gateway (see its AllowedOrigins setting).");

    public static Task TooManyConcurrentRequests(HttpContext context, int limit)
        => WriteAsync(context, StatusCodes.Status429TooManyRequests, "requests", "rate_limit_exceeded", string.Create(CultureInfo.InvariantCulture, $"This key already has {limit} requests in progress, the most this gateway allows; retry when one has finished."), TimeSpan.FromSeconds(1));

    private static string Truncate(string value) => value.Length <= 100 ? value : value[..100] + "…";
}
