using Microsoft.Extensions.Options;
using Tripswitch.Gateway.Configuration;
using Tripswitch.Gateway.Tests.Infrastructure;
using Tripswitch.Testing;
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

        List<string> errors = GatewayOptionsValidator.Check(options, static _ => null);

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

        List<string> errors = GatewayOptionsValidator.Check(options, static _ => null);

        Assert.Contains("Gateway:AllowAnonymous is true and Gateway:ClientKeys is set: choose one (keys, or explicitly none).", errors);
        Assert.Contains("Gateway:ClientKeys:0 must be at least 16 characters with no white space (the value is not shown).", errors);
        Assert.DoesNotContain(errors, e => e.Contains("short-secret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnknownKeyInTheGatewaySection_FailsStartUp()
    {
        // The binder's own error (ErrorOnUnknownConfiguration), raised when the options are validated on start.
        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayHarness.StartAsync(c => c["Gateway:Providers:fake:BaseUri"] = "http://127.0.0.1:1/v1"));

        Assert.Contains("'BaseUri'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidValue_FailsStartUp_NamingIt()
    {
        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHarness.StartAsync(c => c["Gateway:MaxRequestBodyBytes"] = "1"));

        Assert.Contains("Gateway:MaxRequestBodyBytes must be between 1024 and 67108864; it was 1.", error.Failures);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Check_ProviderKeyVariableMissingOrEmpty_NamesTheProviderAndTheVariable(string? value)
    {
        var options = new GatewayOptions
        {
            AllowAnonymous = true,
            Providers = { ["openai"] = new ProviderOptions { BaseUrl = "http://127.0.0.1:1/v1", ApiKeyEnvironmentVariable = "OPENAI_API_KEY" } },
            Models = { ["m"] = new ModelOptions { Provider = "openai" } },
        };

        List<string> errors = GatewayOptionsValidator.Check(options, name => name == "OPENAI_API_KEY" ? value : "unexpected");

        Assert.Equal(
            ["Gateway:Providers:openai:ApiKeyEnvironmentVariable names OPENAI_API_KEY, which is not set or empty: set OPENAI_API_KEY to provider 'openai''s API key, or remove the option."],
            errors);
        Assert.Empty(GatewayOptionsValidator.Check(options, static _ => "sk-set"));
    }

    [Theory]
    [InlineData("Content-Type")]
    [InlineData("OpenAI-Beta")]
    [InlineData("host")]
    public void Check_KeyHeaderThatClientsSendOrTheProtocolUses_IsRefused(string header)
    {
        var options = new GatewayOptions
        {
            AllowAnonymous = true,
            Providers = { ["p"] = new ProviderOptions { BaseUrl = "http://127.0.0.1:1/v1", ApiKeyHeader = header } },
            Models = { ["m"] = new ModelOptions { Provider = "p" } },
        };

        string error = Assert.Single(GatewayOptionsValidator.Check(options, static _ => null));
        Assert.StartsWith($"Gateway:Providers:p:ApiKeyHeader cannot be '{header}'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProviderKeyVariableMissing_FailsStartUp_NamingTheProviderAndTheVariable()
    {
        string variable = "TRIPSWITCH_TEST_MISSING_" + Guid.NewGuid().ToString("N");
        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHarness.StartAsync(c =>
        {
            c.Remove("Gateway:Providers:fake:ApiKey");
            c["Gateway:Providers:fake:ApiKeyEnvironmentVariable"] = variable;
        }));

        Assert.Contains($"Gateway:Providers:fake:ApiKeyEnvironmentVariable names {variable}, which is not set or empty: set {variable} to provider 'fake''s API key, or remove the option.", error.Failures);
    }

    [Fact]
    public async Task ProviderKeyVariableSet_IsTheKeySentUpstream()
    {
        string variable = "TRIPSWITCH_TEST_KEY_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, "sk-from-the-environment-123");
        try
        {
            await using ScriptedServer upstream = await ScriptedServer.StartAsync();
            await using GatewayHarness gateway = await GatewayHarness.StartAsync(
                c =>
                {
                    c.Remove("Gateway:Providers:fake:ApiKey");
                    c["Gateway:Providers:fake:ApiKeyEnvironmentVariable"] = variable;
                },
                new Uri(upstream.BaseAddress, "v1"));
            using HttpClient client = gateway.HttpClient();

            await client.PostAsync("v1/chat/completions", new StringContent("""{"model":"gpt-4o-mini"}""", System.Text.Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);

            Assert.Equal("Bearer sk-from-the-environment-123", Assert.Single(upstream.Received).Headers["Authorization"]);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
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

        List<string> errors = GatewayOptionsValidator.Check(options, static _ => null);

        Assert.Equal([$"Gateway:Providers:p:HttpVersion must be 1.1 or 2, or left out (negotiated); it was '{version}'."], errors);
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

        Assert.Empty(GatewayOptionsValidator.Check(options, static _ => null));
    }
}
