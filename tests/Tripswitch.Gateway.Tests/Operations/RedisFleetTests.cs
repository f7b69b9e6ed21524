using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Tripswitch.FakeLlm;
using Tripswitch.Testing;
using Xunit;

namespace Tripswitch.Gateway.Tests.Operations;

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
        string redisServer = IntegrationRequirement.Executable("redis-server", "redis-server");
        await using FakeLlmServer upstream = await FakeLlmServer.StartAsync(cancellationToken: Token);
        upstream.Model("gpt-4.1").Always(FakeLlmBehavior.ServerError());
        int redisPort = FreePort();
        using Process redis = Start(redisServer, ["--port", redisPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        try
        {
            await Eventually.True(() => Pings(redisPort), "redis-server answers PING");
            string prefix = $"gw-test-{Guid.NewGuid():N}:";
            await using var first = await GatewayProcess.StartAsync(upstream, $"127.0.0.1:{redisPort}", prefix);
            await using var second = await GatewayProcess.StartAsync(upstream, $"127.0.0.1:{redisPort}", prefix);
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
        finally
        {
            redis.Kill(entireProcessTree: true);
        }
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

    private static async Task<bool> Pings(int port)
    {
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, port, Token);
            NetworkStream stream = tcp.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), Token);
            byte[] reply = new byte[7];
            int read = await stream.ReadAsync(reply, Token);
            return Encoding.ASCII.GetString(reply, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Process Start(string file, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        Process process = Process.Start(start)!;
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
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
