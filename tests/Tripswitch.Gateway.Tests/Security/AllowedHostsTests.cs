using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HostFiltering;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tripswitch.Gateway.Security;
using Tripswitch.Gateway.Tests.Infrastructure;
using Xunit;

namespace Tripswitch.Gateway.Tests.Security;

/// <summary>
/// <c>AllowedHosts</c> defaults to the names the gateway is bound to (a wildcard binding keeps <c>*</c> and warns); a
/// configured value wins. The requests themselves are in <see cref="BrowserTests"/>.
/// </summary>
public sealed class AllowedHostsTests
{
    [Theory]
    [InlineData("http://127.0.0.1:4000", DefaultAllowedHosts.Loopback)]
    [InlineData("http://[::1]:4000", DefaultAllowedHosts.Loopback)]
    [InlineData("http://localhost:4000", DefaultAllowedHosts.Loopback)]
    [InlineData("https://LocalHost:4443", DefaultAllowedHosts.Loopback)]
    [InlineData("http://127.0.0.2:4000", DefaultAllowedHosts.Loopback + ";127.0.0.2")]
    [InlineData("http://gateway.example.com:4000", "gateway.example.com")]
    [InlineData("http://10.0.0.5:4000", "10.0.0.5")]
    [InlineData("http://[2001:db8::5]:4000", "[2001:db8::5]")]
    [InlineData("http://127.0.0.1:4000;https://gateway.example.com:4443", DefaultAllowedHosts.Loopback + ";gateway.example.com")]
    [InlineData("http://127.0.0.1:4000;http://localhost:4001", DefaultAllowedHosts.Loopback)]
    [InlineData("http://unix:/run/gateway.sock", "*")]
    public void For_ABinding_IsItsNames(string urls, string expected)
    {
        DefaultAllowedHosts hosts = DefaultAllowedHosts.For(urls.Split(';'));

        Assert.Equal(expected, hosts.Value);
        Assert.False(hosts.IsWildcard);
    }

    [Theory]
    [InlineData("http://0.0.0.0:4000")]
    [InlineData("http://[::]:4000")]
    [InlineData("http://*:4000")]
    [InlineData("http://+:4000")]
    [InlineData("http://127.0.0.1:4000;http://0.0.0.0:4001")]
    public void For_AWildcardBinding_IsAnyHost_AndSaysToWarn(string urls)
    {
        DefaultAllowedHosts hosts = DefaultAllowedHosts.For(urls.Split(';'));

        Assert.Equal("*", hosts.Value);
        Assert.True(hosts.IsWildcard);
    }

    [Fact]
    public async Task LoopbackBinding_ReachesHostFiltering()
    {
        (WebApplication app, CapturingLoggerProvider logs) = await BuildAsync("http://127.0.0.1:0");
        await using (app)
        {
            Assert.Equal(["127.0.0.1", "localhost", "[::1]"], app.Services.GetRequiredService<IOptions<HostFilteringOptions>>().Value.AllowedHosts);
            Assert.DoesNotContain(logs.Lines, l => l.Contains("AllowedHosts", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task WildcardBinding_AllowsAnyHost_AndWarnsToSetAllowedHosts()
    {
        (WebApplication app, CapturingLoggerProvider logs) = await BuildAsync("http://0.0.0.0:0");
        await using (app)
        {
            Assert.Equal(["*"], app.Services.GetRequiredService<IOptions<HostFilteringOptions>>().Value.AllowedHosts);
            Assert.Contains(logs.Lines, l => l.Contains("Warning", StringComparison.Ordinal) && l.Contains("Set AllowedHosts", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task ConfiguredAllowedHosts_Wins_WithoutAWarning()
    {
        (WebApplication app, CapturingLoggerProvider logs) = await BuildAsync("http://0.0.0.0:0", allowedHosts: "gateway.example.com;*.internal.example");
        await using (app)
        {
            Assert.Equal(["gateway.example.com", "*.internal.example"], app.Services.GetRequiredService<IOptions<HostFilteringOptions>>().Value.AllowedHosts);
            Assert.DoesNotContain(logs.Lines, l => l.Contains("Set AllowedHosts", StringComparison.Ordinal));
        }
    }

    /// <summary>Builds the gateway without starting it (nothing is bound, so a wildcard URL opens nothing).</summary>
    private static async Task<(WebApplication App, CapturingLoggerProvider Logs)> BuildAsync(string urls, string? allowedHosts = null)
    {
        var logs = new CapturingLoggerProvider();
        WebApplication app = await GatewayApp.BuildAsync(["--urls", urls], builder =>
        {
            Dictionary<string, string?> configuration = GatewayHarness.DefaultConfiguration(new Uri("http://127.0.0.1:1/v1"));
            configuration["AllowedHosts"] = allowedHosts;
            builder.Configuration.AddInMemoryCollection(configuration);
            builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Trace).AddProvider(logs);
        });
        return (app, logs);
    }
}
