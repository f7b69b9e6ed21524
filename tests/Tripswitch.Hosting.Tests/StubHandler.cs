using System.Net;

namespace Tripswitch.Hosting.Tests;

/// <summary>An in-process primary handler: answers every request with a fixed status (no network), and remembers what it saw.</summary>
public sealed class StubHandler(HttpStatusCode status, string body = "", Action<HttpResponseMessage>? decorate = null) : HttpMessageHandler
{
    public int Requests { get; private set; }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests++;
        var response = new HttpResponseMessage(status) { RequestMessage = request, Content = new StringContent(body) };
        decorate?.Invoke(response);
        return Task.FromResult(response);
    }
}
