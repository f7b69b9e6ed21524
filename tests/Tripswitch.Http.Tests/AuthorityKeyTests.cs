using Xunit;

namespace Tripswitch.Http.Tests;

/// <summary>
/// The one key function behind the handler's default circuits: names that configuration accepts (no ':'), the port only
/// when it isn't the scheme's default, lower-cased.
/// </summary>
public sealed class AuthorityKeyTests
{
    [Theory]
    [InlineData("https://api.openai.com/v1/chat/completions", "api.openai.com")]
    [InlineData("http://127.0.0.1:4100/", "127.0.0.1-4100")]
    [InlineData("https://API.Example.COM:8443/Path", "api.example.com-8443")]
    [InlineData("http://example.com:80/", "example.com")]
    [InlineData("https://example.com:443/", "example.com")]
    [InlineData("http://example.com:443/", "example.com-443")]
    [InlineData("https://user:secret@example.com/", "example.com")]
    [InlineData("http://localhost:8080/search?q=a:b#c:d", "localhost-8080")]
    [InlineData("http://[::1]:5000/", "[--1]-5000")]
    [InlineData("https://[2001:DB8::1]/v1", "[2001-db8--1]")]
    [InlineData("https://b\u00fccher.example/", "xn--bcher-kva.example")]
    public void AuthorityKey_Uri_IsHostThenNonDefaultPortWithoutColons(string uri, string expected)
    {
        string key = CircuitBreakerHandlerOptions.AuthorityKey(new Uri(uri));

        Assert.Equal(expected, key);
        Assert.DoesNotContain(':', key);
    }

    [Fact]
    public void AuthorityKey_Request_IsTheKeyOfItsUri()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "https://Api.OpenAI.com:8443/v1/chat/completions");

        Assert.Equal("api.openai.com-8443", CircuitBreakerHandlerOptions.AuthorityKey(request));
    }

    [Fact]
    public void AuthorityKey_RelativeUri_ThrowsNamingTheUri()
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => CircuitBreakerHandlerOptions.AuthorityKey(new Uri("/v1/chat", UriKind.Relative)));

        Assert.Equal("uri", error.ParamName);
        Assert.Contains("'/v1/chat'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AuthorityKey_RequestWithoutAbsoluteUri_ThrowsSayingHowToChooseTheCircuit()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/v1", UriKind.Relative));

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => CircuitBreakerHandlerOptions.AuthorityKey(request));

        Assert.Contains("BaseAddress or a KeySelector", error.Message, StringComparison.Ordinal);
    }
}
