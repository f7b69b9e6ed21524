using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Tripswitch.Gateway.Configuration;
using Tripswitch.Gateway.Tests.Infrastructure;
using Tripswitch.Testing;
using Xunit;

namespace Tripswitch.Gateway.Tests.Configuration;

/// <summary>
/// <c>Gateway:Limits</c> reach Kestrel (defaults safe in front of the internet), bad values and the same limits set under
/// <c>Kestrel:Limits</c> fail start-up naming the option, and a client that sends its headers too slowly is cut.
/// </summary>
public sealed class KestrelLimitsTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public void Ctor_Defaults()
    {
        var limits = new LimitsOptions();
        var options = new GatewayOptions();

        Assert.Equal(10_000, limits.MaxConnections);
        Assert.Equal(TimeSpan.FromSeconds(10), limits.RequestHeadersTimeout);
        Assert.Equal(TimeSpan.FromSeconds(60), limits.KeepAliveTimeout);
        Assert.Equal(240, limits.MinRequestBodyDataRate);
        Assert.Equal(TimeSpan.FromSeconds(5), limits.MinRequestBodyDataRateGracePeriod);
        Assert.Equal(32 * 1024, limits.MaxRequestHeadersTotalSize);
        Assert.Null(options.MaxConcurrentRequestsPerClient);
        Assert.Empty(options.AllowedOrigins);
    }

    [Fact]
    public async Task DefaultLimits_ReachKestrel()
    {
        await using GatewayHarness gateway = await GatewayHarness.StartAsync();

        KestrelServerLimits limits = gateway.App.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        Assert.Equal(10_000, limits.MaxConcurrentConnections);
        Assert.Equal(TimeSpan.FromSeconds(10), limits.RequestHeadersTimeout);
        Assert.Equal(TimeSpan.FromSeconds(60), limits.KeepAliveTimeout);
        Assert.Equal(240, limits.MinRequestBodyDataRate!.BytesPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(5), limits.MinRequestBodyDataRate.GracePeriod);
        Assert.Equal(32 * 1024, limits.MaxRequestHeadersTotalSize);
    }

    [Fact]
    public async Task ConfiguredLimits_ReachKestrel()
    {
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(c =>
        {
            c["Gateway:Limits:MaxConnections"] = "123";
            c["Gateway:Limits:RequestHeadersTimeout"] = "00:00:03";
            c["Gateway:Limits:KeepAliveTimeout"] = "00:02:00";
            c["Gateway:Limits:MinRequestBodyDataRate"] = "0";
            c["Gateway:Limits:MaxRequestHeadersTotalSize"] = "8192";
        });

        KestrelServerLimits limits = gateway.App.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        Assert.Equal(123, limits.MaxConcurrentConnections);
        Assert.Equal(TimeSpan.FromSeconds(3), limits.RequestHeadersTimeout);
        Assert.Equal(TimeSpan.FromMinutes(2), limits.KeepAliveTimeout);
        Assert.Null(limits.MinRequestBodyDataRate); // 0: no minimum
        Assert.Equal(8192, limits.MaxRequestHeadersTotalSize);
    }

    [Fact]
    public void Check_NamesEveryLimitOutOfRange()
    {
        var options = new GatewayOptions
        {
            AllowAnonymous = true,
            Limits = new LimitsOptions
            {
                MaxConnections = 0,
                RequestHeadersTimeout = TimeSpan.Zero,
                KeepAliveTimeout = TimeSpan.FromHours(2),
                MinRequestBodyDataRate = -1,
                MinRequestBodyDataRateGracePeriod = TimeSpan.FromSeconds(1),
                MaxRequestHeadersTotalSize = 100,
            },
            MaxConcurrentRequestsPerClient = 0,
            Providers = { ["p"] = new ProviderOptions { BaseUrl = "http://127.0.0.1:1/v1" } },
            Models = { ["m"] = new ModelOptions { Provider = "p" } },
        };

        List<string> errors = GatewayOptionsValidator.Check(options, static _ => null);

        Assert.Equal(
            [
                "Gateway:Limits:MaxConnections must be between 1 and 1000000; it was 0.",
                "Gateway:Limits:RequestHeadersTimeout must be between 00:00:01 and 00:05:00; it was 00:00:00.",
                "Gateway:Limits:KeepAliveTimeout must be between 00:00:01 and 01:00:00; it was 02:00:00.",
                "Gateway:Limits:MinRequestBodyDataRate must be between 0 and 1048576; it was -1.",
                "Gateway:Limits:MinRequestBodyDataRateGracePeriod must be between 00:00:02 and 00:05:00; it was 00:00:01.",
                "Gateway:Limits:MaxRequestHeadersTotalSize must be between 4096 and 1048576; it was 100.",
                "Gateway:MaxConcurrentRequestsPerClient must be between 1 and 100000; it was 0.",
            ],
            errors);
    }

    [Fact]
    public async Task InvalidLimit_FailsStartUp_NamingIt()
    {
        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHarness.StartAsync(c => c["Gateway:MaxConcurrentRequestsPerClient"] = "100001"));

        Assert.Contains("Gateway:MaxConcurrentRequestsPerClient must be between 1 and 100000; it was 100001.", error.Failures);
    }

    [Theory]
    [InlineData("Kestrel:Limits:MaxConcurrentConnections", "50000", "Gateway:Limits:MaxConnections")]
    [InlineData("Kestrel:Limits:MinRequestBodyDataRate:BytesPerSecond", "100", "Gateway:Limits:MinRequestBodyDataRate")]
    public async Task SameLimitUnderKestrelLimits_FailsStartUp_NamingBoth(string key, string value, string instead)
    {
        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHarness.StartAsync(c => c[key] = value));

        string kestrel = string.Join(':', key.Split(':').Take(3));
        Assert.Contains(error.Failures, f => f.StartsWith($"{kestrel} is set, but the gateway sets this limit itself: set {instead}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ClientSendingHeadersSlowerThanTheTimeout_IsCut_AndNothingIsForwarded()
    {
        await using GatewayHarness gateway = await GatewayHarness.StartAsync(c => c["Gateway:Limits:RequestHeadersTimeout"] = "00:00:01");
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(gateway.Address.Host, gateway.Address.Port, Token);
        NetworkStream stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{gateway.Address.Port}\r\n"), Token);
        Task<string> answer = ReadToEndAsync(stream);

        // Kestrel's timeouts run on the real clock (its heartbeat; it takes no TimeProvider), so this test waits in real
        // time: a header line every 200 ms, which never completes the headers, until Kestrel cuts the connection. The
        // timeout counts from the request's start, so trickling does not extend it. Bounded well under the 10 s
        // default, so only the configured 1 s can have cut it.
        using CancellationTokenSource trickling = CancellationTokenSource.CreateLinkedTokenSource(Token);
        Task trickle = TrickleAsync(stream, trickling.Token);
        string response = await answer.Within("Kestrel to cut a client sending its headers too slowly", TimeSpan.FromSeconds(8));
        await trickling.CancelAsync();
        await trickle;

        Assert.True(response.Length == 0 || response.StartsWith("HTTP/1.1 408", StringComparison.Ordinal), response);
        Assert.Equal(0, gateway.Upstream.TotalRequests);
    }

    private static async Task TrickleAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        try
        {
            for (int i = 0; !cancellationToken.IsCancellationRequested; i++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"X-Slow-{i}: x\r\n"), cancellationToken);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // cut by the server, or the test is done
        }
    }

    private static async Task<string> ReadToEndAsync(NetworkStream stream)
    {
        var received = new MemoryStream();
        var buffer = new byte[1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // reset by the server: cut as well
        }

        return Encoding.ASCII.GetString(received.ToArray());
    }
}
