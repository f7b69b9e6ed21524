using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using StackExchange.Redis;
using Tripswitch.Redis.Tests.Infrastructure;
using Tripswitch.Testing.Redis;
using Xunit;

namespace Tripswitch.Redis.Tests;

/// <summary>A password-protected Redis and a TLS-only Redis, each with its own server.</summary>
public sealed class SecurityTests
{
    /// <summary>
    /// For the connections that cannot succeed: with StackExchange.Redis's defaults, ConnectAsync waits 5 s for the
    /// first connection and the first command fails (so IsDegraded turns true) only after another 5 s or so.
    /// </summary>
    private const string FailFast = ",connectTimeout=1000,syncTimeout=1000,asyncTimeout=1000";

    private static readonly CircuitBreakerOptions Options = new()
    {
        FailureThreshold = 2,
        RecoveryTimeout = TimeSpan.FromSeconds(30),
        SuccessThreshold = 1,
    };

    [Fact]
    public async Task APasswordProtectedRedis_IsSharedThroughTheConfigurationString()
    {
        string password = "s3cret-" + Guid.NewGuid().ToString("N");
        await using RedisServer server = await RedisServer.StartNewAsync(new RedisServerOptions { Password = password });
        Assert.Contains("password=", server.Configuration, StringComparison.Ordinal);
        var options = new RedisCircuitOptions { KeyPrefix = Fleet.UniquePrefix() };
        var registryA = new CircuitBreakerRegistry(Options);
        var registryB = new CircuitBreakerRegistry(Options);
        await using RedisCircuitSharing a = await RedisCircuitSharing.ConnectAsync(registryA, server.Configuration, options);
        await using RedisCircuitSharing b = await RedisCircuitSharing.ConnectAsync(registryB, server.Configuration, options);
        await using ConnectionMultiplexer admin = await ConnectionMultiplexer.ConnectAsync(server.Configuration);
        await Eventually.True(async () => (long)(await admin.GetDatabase().ExecuteAsync("PUBSUB", "NUMSUB", options.KeyPrefix + "events"))[1] == 2, "both subscribed");

        CircuitBreaker aBreaker = registryA.Get("secured");
        CircuitBreaker bBreaker = registryB.Get("secured");
        Task<long> bOpened = Eventually.StateChange(bBreaker, CircuitState.Open);
        aBreaker.Fail(2);
        await bOpened.Within("the trip reaches B");
        Assert.Equal("1", (string?)await admin.GetDatabase().HashGetAsync(Fleet.LayoutHash(options.KeyPrefix, "secured"), "st"));
        Assert.False(a.IsDegraded || b.IsDegraded);
    }

    [Fact]
    public async Task AWrongPassword_DegradesToLocalRules_WithoutAnErrorForCallers()
    {
        await using RedisServer server = await RedisServer.StartNewAsync(new RedisServerOptions { Password = "right" });
        var registry = new CircuitBreakerRegistry(Options);
        await using RedisCircuitSharing sharing = await RedisCircuitSharing.ConnectAsync(registry, server.Endpoint + ",password=wrong" + FailFast);
        CircuitBreaker breaker = registry.Get("refused");

        Assert.True(breaker.TrySucceed());
        await Eventually.True(() => sharing.IsDegraded, "degraded: Redis refuses the connection");
        breaker.Fail(2);
        Assert.Equal(CircuitState.Open, breaker.Rejection()!.State); // the local rules still protect
    }

    [Fact]
    public async Task ATlsOnlyRedis_IsSharedThroughAConnectionThatTrustsItsCertificate()
    {
        RedisServer.RequireInstalled();
        // No certificate for a TLS redis-server without openssl: skipped, or a failure with TRIPSWITCH_REQUIRE_INTEGRATION=1.
        string openssl = IntegrationRequirement.Executable("openssl", debianPackage: "openssl", "/usr/bin", "/usr/local/bin");

        DirectoryInfo certificates = Directory.CreateTempSubdirectory("tripswitch-tls-");
        try
        {
            string certificate = Path.Combine(certificates.FullName, "redis.crt");
            string key = Path.Combine(certificates.FullName, "redis.key");
            await RunAsync(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate);
            await using RedisServer server = await RedisServer.StartNewAsync(new RedisServerOptions { Tls = (certificate, key) });

            // A connection that trusts the self-signed certificate works.
            ConfigurationOptions Trusting()
            {
                ConfigurationOptions config = ConfigurationOptions.Parse(server.Endpoint + ",ssl=true,sslHost=127.0.0.1,abortConnect=false");
                config.TrustIssuer(X509CertificateLoader.LoadCertificateFromFile(certificate));
                return config;
            }

            await using ConnectionMultiplexer connectionA = await ConnectionMultiplexer.ConnectAsync(Trusting());
            await using ConnectionMultiplexer connectionB = await ConnectionMultiplexer.ConnectAsync(Trusting());
            var options = new RedisCircuitOptions { KeyPrefix = Fleet.UniquePrefix() };
            var registryA = new CircuitBreakerRegistry(Options);
            var registryB = new CircuitBreakerRegistry(Options);
            await using RedisCircuitSharing a = RedisCircuitSharing.Attach(registryA, connectionA, options);
            await using RedisCircuitSharing b = RedisCircuitSharing.Attach(registryB, connectionB, options);
            IDatabase admin = connectionA.GetDatabase();
            await Eventually.True(async () => (long)(await admin.ExecuteAsync("PUBSUB", "NUMSUB", options.KeyPrefix + "events"))[1] == 2, "both subscribed over TLS");

            CircuitBreaker aBreaker = registryA.Get("tls");
            CircuitBreaker bBreaker = registryB.Get("tls");
            Task<long> bOpened = Eventually.StateChange(bBreaker, CircuitState.Open);
            aBreaker.Fail(2);
            await bOpened.Within("the trip reaches B over TLS");
            Assert.Equal("1", (string?)await admin.HashGetAsync(Fleet.LayoutHash(options.KeyPrefix, "tls"), "st"));
            Assert.False(a.IsDegraded || b.IsDegraded);

            // The certificate really is checked: a connection string alone cannot trust a self-signed certificate,
            // so that instance runs on its local rules (and its callers see nothing of it).
            var registryC = new CircuitBreakerRegistry(Options);
            await using RedisCircuitSharing c = await RedisCircuitSharing.ConnectAsync(registryC, server.Endpoint + ",ssl=true,sslHost=127.0.0.1" + FailFast, options);
            CircuitBreaker cBreaker = registryC.Get("tls");
            Assert.True(cBreaker.TrySucceed());
            await Eventually.True(() => c.IsDegraded, "the untrusted connection is degraded");
            Assert.Equal(CircuitState.Closed, cBreaker.State); // it never heard of the fleet's open circuit
        }
        finally
        {
            certificates.Delete(recursive: true);
        }
    }

    private static async Task RunAsync(string executable, params string[] args)
    {
        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0, $"{executable} {string.Join(' ', args)} failed: {await output}");
    }
}
