using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Tripswitch.Gateway.Routing;

namespace Tripswitch.Gateway.Forwarding;

/// <summary><c>GET /v1/models</c>: the configured models, in the OpenAI API's list shape.</summary>
internal static class ModelList
{
    public static async Task WriteAsync(HttpContext context, RouteTable routes)
    {
        context.Response.ContentType = "application/json";
        var json = new Utf8JsonWriter(context.Response.Body);
        await using (json.ConfigureAwait(false))
        {
            json.WriteStartObject();
            json.WriteString("object", "list");
            json.WriteStartArray("data");
            foreach ((string model, string provider) in routes.Models)
            {
                json.WriteStartObject();
                json.WriteString("id", model);
                json.WriteString("object", "model");
                json.WriteNumber("created", 0);
                json.WriteString("owned_by", provider);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
            await json.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        }
    }
}
