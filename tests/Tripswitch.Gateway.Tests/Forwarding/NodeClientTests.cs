using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Tripswitch.FakeLlm;
using Tripswitch.Gateway.Tests.Infrastructure;
using Tripswitch.Testing;
using Xunit;

namespace Tripswitch.Gateway.Tests.Forwarding;

/// <summary>
/// The official OpenAI Node client (npm <c>openai</c>, pinned in <c>node/package-lock.json</c>, installed by
/// <c>./test.sh</c> with <c>npm ci</c>) runs <c>node/test/gateway.test.mjs</c> with <c>node --test</c> against the
/// gateway in front of scripted FakeLlm models, and the pattern's own <c>getCompletion(prompt)</c> unchanged but for
/// its base URL. A small control server lets the script move the circuits' fake clock and read a circuit's counts.
/// </summary>
public sealed class NodeClientTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OfficialNodeClient_PassesEveryScenario()
    {
        string node = IntegrationRequirement.Executable("node", "nodejs");
        string scripts = NodeDirectory();
        if (!File.Exists(Path.Combine(scripts, "node_modules", "openai", "package.json")))
        {
            IntegrationRequirement.Missing($"The npm package openai is not installed in {scripts}: run ./test.sh (it runs npm ci there), or npm ci in that folder.");
        }

        await using GatewayHarness gateway = await GatewayHarness.StartAsync(Configure);
        Script(gateway.Upstream);
        await using WebApplication control = await StartControlAsync(gateway);

        (int exit, string output) = await RunAsync(node, scripts, new Dictionary<string, string>
        {
            ["GATEWAY_URL"] = gateway.ApiEndpoint.AbsoluteUri,
            ["OPENAI_API_KEY"] = GatewayHarness.ClientKey,
            ["CONTROL_URL"] = AddressOf(control).AbsoluteUri.TrimEnd('/'),
        });

        Assert.True(exit == 0, $"node --test exited with {exit}:\n{output}");
        Assert.Contains("# pass 7", output, StringComparison.Ordinal);
        Assert.Contains("# fail 0", output, StringComparison.Ordinal);
        Assert.Equal(3, gateway.Upstream.Model("limited").Requests); // two 429s, nothing while open, then the answer
    }

    private static void Configure(Dictionary<string, string?> c)
    {
        c["Gateway:FallbackOnFailure"] = "false"; // the script sees each 500 before the circuit opens
        foreach (string model in new[] { "stream-ok", "trip-fallback", "solo-500", "limited", "cut" })
        {
            c[$"Gateway:Models:{model}:Provider"] = "fake";
        }

        c["Gateway:Models:trip-500:Provider"] = "fake";
        c["Gateway:Models:trip-500:Fallbacks:0"] = "trip-fallback";
        c["Tripswitch:Circuits:fake/limited:RecoveryTimeout"] = "00:00:01"; // only the 429's hint keeps it open 6 s
    }

    private static void Script(FakeLlmServer upstream)
    {
        upstream.Model("stream-ok").Always(FakeLlmBehavior.Reply("one two three four"));
        upstream.Model("trip-500").Always(FakeLlmBehavior.ServerError());
        upstream.Model("trip-fallback");
        upstream.Model("solo-500").Always(FakeLlmBehavior.ServerError());
        upstream.Model("limited").Enqueue(FakeLlmBehavior.RateLimited(TimeSpan.FromSeconds(6)), times: 2);
        upstream.Model("cut").Enqueue(FakeLlmBehavior.FailMidway("a b c d e f", chunksBeforeFailure: 2));
    }

    /// <summary>POST /advance?seconds=S moves the circuits' clock; GET /circuit?name=N&amp;wait=K answers a circuit's counts once K outcomes were reported.</summary>
    private static async Task<WebApplication> StartControlAsync(GatewayHarness gateway)
    {
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddRoutingCore();
        WebApplication app = builder.Build();
        app.MapPost("/advance", (HttpContext context) =>
        {
            gateway.Time.Advance(TimeSpan.FromSeconds(double.Parse(context.Request.Query["seconds"]!, CultureInfo.InvariantCulture)));
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        });
        app.MapGet("/circuit", async (HttpContext context) =>
        {
            string name = context.Request.Query["name"]!;
            int wait = int.Parse(context.Request.Query["wait"]!, CultureInfo.InvariantCulture);
            if (wait > 0)
            {
                await gateway.Logs.WaitForForwardedAsync(name, wait);
            }

            CircuitSummary summary = gateway.Registry.Get(name).GetSummary();
            await context.Response.WriteAsJsonAsync(new { state = summary.State.ToString(), successful = summary.Successful, failed = summary.Failed });
        });
        await app.StartAsync(Token);
        return app;
    }

    private static async Task<(int Exit, string Output)> RunAsync(string node, string directory, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(node, ["--test", "--test-reporter=tap", "test/gateway.test.mjs"])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment.Remove("OPENAI_BASE_URL");
        foreach ((string key, string value) in environment)
        {
            start.Environment[key] = value;
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(Token);
        Task<string> stderr = process.StandardError.ReadToEndAsync(Token);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(Token);
        bound.CancelAfter(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>The committed Node project: tests/Tripswitch.Gateway.Tests/node, found from the test binaries upward.</summary>
    internal static string NodeDirectory()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "Tripswitch.Gateway.Tests", "node");
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"tests/Tripswitch.Gateway.Tests/node was not found above {AppContext.BaseDirectory}.");
    }

    private static Uri AddressOf(WebApplication app)
        => new(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
}
