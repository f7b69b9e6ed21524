using Microsoft.Extensions.Options;
using Tripswitch.Gateway.Configuration;
using Tripswitch.Gateway.Tests.Infrastructure;
using Xunit;

namespace Tripswitch.Gateway.Tests.Configuration;

/// <summary>Bad configuration fails start-up with a message naming the option, the value and what is allowed.</summary>
public sealed class GatewayOptionsTests
{
    [Fact]
    public void Check_NamesEveryProblem()
    {
        var options = new GatewayOptions
        {
            MaxRequestBodyBytes = 10,
            Providers = { ["openai"] = new ProviderOptions { BaseUrl = "ftp://x", Timeout = TimeSpan.Zero } },
            Models = { ["gpt-4.1"] = new ModelOptions { Provider = "azure", Fallbacks = ["nope", "other/gpt-4"] } },
        };

        List<string> errors = GatewayOptionsValidator.Check(options);

        Assert.Contains("Gateway:ClientKeys is empty: set at least one client key, or Gateway:AllowAnonymous = true to let anyone call.", errors);
        Assert.Contains("Gateway:MaxRequestBodyBytes must be between 1024 and 67108864; it was 10.", errors);
        Assert.Contains(errors, e => e.StartsWith("Gateway:Providers:openai:BaseUrl must be an absolute http or https URL", StringComparison.Ordinal) && e.EndsWith("it was 'ftp://x'.", StringComparison.Ordinal));
        Assert.Contains("Gateway:Providers:openai:Timeout must be between 00:00:00.001 and 01:00:00; it was 00:00:00.", errors);
        Assert.Contains("Gateway:Models:gpt-4.1:Provider must name a configured provider (openai); it was 'azure'.", errors);
        Assert.Contains("Gateway:Models:gpt-4.1:Fallbacks:0 must be a configured model (gpt-4.1) or provider/model with a configured provider; it was 'nope'.", errors);
        Assert.Contains(errors, e => e.StartsWith("Gateway:Models:gpt-4.1:Fallbacks:1 ", StringComparison.Ordinal));
        Assert.Equal(7, errors.Count);
    }

    [Fact]
    public void Check_RefusesAnonymousTogetherWithKeys_AndShortKeysWithoutShowingThem()
    {
        var options = new GatewayOptions
        {
            AllowAnonymous = true,
            ClientKeys = ["short-secret"],
            Providers = { ["p"] = new ProviderOptions { BaseUrl = "http://127.0.0.1:1/v1" } },
            Models = { ["m"] = new ModelOptions { Provider = "p" } },
        };

        List<string> errors = GatewayOptionsValidator.Check(options);

        Assert.Contains("Gateway:AllowAnonymous is true and Gateway:ClientKeys is set: choose one (keys, or explicitly none).", errors);
        Assert.Contains("Gateway:ClientKeys:0 must be at least 16 characters with no white space (the value is not shown).", errors);
        Assert.DoesNotContain(errors, e => e.Contains("short-secret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnknownKeyInTheGatewaySection_FailsStartUp()
    {
        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => GatewayHarness.StartAsync(c => c["Gateway:Providers:fake:BaseUri"] = "http://127.0.0.1:1/v1"));

        Assert.Contains("BaseUri", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidValue_FailsStartUp_NamingIt()
    {
        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHarness.StartAsync(c => c["Gateway:MaxRequestBodyBytes"] = "1"));

        Assert.Contains("Gateway:MaxRequestBodyBytes must be between 1024 and 67108864; it was 1.", error.Failures);
    }

    [Theory]
    [InlineData("2.0")]
    [InlineData("3")]
    [InlineData("")]
    public void Check_RefusesAnUnknownHttpVersion_NamingTheValidOnes(string version)
    {
        var options = new GatewayOptions
        {
            AllowAnonymous = true,
            Providers = { ["p"] = new ProviderOptions { BaseUrl = "http://127.0.0.1:1/v1", HttpVersion = version } },
            Models = { ["m"] = new ModelOptions { Provider = "p" } },
        };

        List<string> errors = GatewayOptionsValidator.Check(options);

        Assert.Equal([$"Gateway:Providers:p:HttpVersion must be 1.1 or 2; it was '{version}'."], errors);
    }

    [Theory]
    [InlineData("1.1")]
    [InlineData("2")]
    public void Check_AcceptsHttpVersion11And2(string version)
    {
        var options = new GatewayOptions
        {
            AllowAnonymous = true,
            Providers = { ["p"] = new ProviderOptions { BaseUrl = "https://api.example.com/v1", HttpVersion = version } },
            Models = { ["m"] = new ModelOptions { Provider = "p" } },
        };

        Assert.Empty(GatewayOptionsValidator.Check(options));
    }
}
