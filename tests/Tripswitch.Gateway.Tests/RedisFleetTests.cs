using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Tripswitch.FakeLlm;
using Tripswitch.Testing;
using Tripswitch.Testing.Redis;
using Xunit;

namespace Tripswitch.Gateway.Tests;

/// <summary>
/// Two gateway processes (the real executable, started with <c>dotnet Tripswitch.Gateway.dll</c>) sharing their circuits
/// through a real redis-server: a circuit tripped through one is open in the other, which then answers 503 without
/// calling the upstream.
/// </summary>
public sealed class RedisFleetTests
{
    private const string AdminKey = "fleet-admin-key-0123456789";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CircuitTrippedThroughOneGateway_IsOpenInTheOther()
    {
        await using RedisServer redis = await RedisServer.StartNewAsync(); // the test kit's: skips (or fails under CI) without redis-server
        await using FakeLlmServer upstream = await FakeLlmServer.StartAsync(cancellationToken: Token);
        upstream.Model("gpt-4.1").Always(FakeLlmBehavior.ServerError());
        string prefix = $"gw-test-{Guid.NewGuid():N}:";
        await using var first = await GatewayProcess.StartAsync(upstream, redis.Configuration, prefix);
        await using var second = await GatewayProcess.StartAsync(upstream, redis.Configuration, prefix);
        using var client = new HttpClient();

        for (int i = 0; i < 2; i++)
        {
            HttpResponseMessage failed = await client.PostAsync(new Uri(first.Address, "v1/chat/completions"), Chat(), Token);
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        }

        await Eventually.True(async () => string.Equals(await StateAsync(client, second.Address), "open", StringComparison.OrdinalIgnoreCase), "the second gateway sees fake/gpt-4.1 open");
        HttpResponseMessage rejected = await client.PostAsync(new Uri(second.Address, "v1/chat/completions"), Chat(), Token);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode);
        Assert.Contains("circuit_open", await rejected.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
        Assert.True(rejected.Headers.RetryAfter?.Delta > TimeSpan.FromSeconds(50));
        Assert.Equal(2, upstream.Model("gpt-4.1").Requests); // the second gateway never called it
    }

    private static StringContent Chat() => new("""{"model":"gpt-4.1","messages":[{"role":"user","content":"Hi"}]}""", Encoding.UTF8, "application/json");

    private static async Task<string?> StateAsync(HttpClient client, Uri gateway)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(gateway, "tripswitch/status"));
        request.Headers.Authorization = new("Bearer", AdminKey);
        using HttpResponseMessage response = await client.SendAsync(request, Token);
        using JsonDocument status = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token));
        foreach (JsonElement circuit in status.RootElement.GetProperty("circuits").EnumerateArray())
        {
            if (circuit.GetProperty("name").GetString() == "fake/gpt-4.1")
            {
                return circuit.GetProperty("state").GetString();
            }
        }

        return null;
    }

    /// <summary>One gateway process, configured on its command line; its address is read from the banner it prints.</summary>
    private sealed class GatewayProcess : IAsyncDisposable
    {
        private readonly Process _process;

        private GatewayProcess(Process process, Uri address)
        {
            _process = process;
            Address = address;
        }

        public Uri Address { get; }

        public static async Task<GatewayProcess> StartAsync(FakeLlmServer upstream, string redis, string prefix)
        {
            string dll = Path.Combine(AppContext.BaseDirectory, "Tripswitch.Gateway.dll");
            var start = new ProcessStartInfo("dotnet", [
                dll,
                "--urls", "http://127.0.0.1:0",
                "--Gateway:AllowAnonymous=true",
                $"--Gateway:AdminKey={AdminKey}",
                "--Gateway:FallbackOnFailure=false",
                $"--Gateway:Redis={redis}",
                $"--Gateway:RedisKeyPrefix={prefix}",
                $"--Gateway:Providers:fake:BaseUrl={upstream.ApiEndpoint.AbsoluteUri}",
                "--Gateway:Models:gpt-4.1:Provider=fake",
                "--Tripswitch:Defaults:FailureThreshold=2",
                "--Tripswitch:Defaults:RecoveryTimeout=00:01:00",
                "--Logging:LogLevel:Default=Warning",
            ])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = AppContext.BaseDirectory,
            };
            Process process = Process.Start(start)!;
            var address = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
            var output = new StringBuilder();
            process.OutputDataReceived += (_, e) =>
            {
                lock (output)
                {
                    output.AppendLine(e.Data);
                }

                const string Banner = "Tripswitch gateway: ";
                if (e.Data?.StartsWith(Banner, StringComparison.Ordinal) == true)
                {
                    address.TrySetResult(new Uri(e.Data[Banner.Length..].Split(' ')[0]));
                }
            };
            process.ErrorDataReceived += (_, e) =>
            {
                lock (output)
                {
                    output.AppendLine(e.Data);
                }
            };
            process.Exited += (_, _) => address.TrySetException(new InvalidOperationException($"The gateway exited with {process.ExitCode}:\n{output}"));
            process.EnableRaisingEvents = true;
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                return new GatewayProcess(process, await address.Task.WaitAsync(Eventually.Timeout * 4, Token));
            }
            catch
            {
                process.Kill(entireProcessTree: true);
                process.Dispose();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None);
            _process.Dispose();
        }
    }
}
