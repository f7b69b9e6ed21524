using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Tripswitch.Hosting.Tests;

/// <summary>A real generic host (no default sources or providers) with a fake clock and a log collector.</summary>
public sealed class TestHost : IAsyncDisposable
{
    private TestHost(IHost host, FakeTimeProvider time, TestLoggerProvider logs)
    {
        Host = host;
        Time = time;
        Logs = logs;
    }

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public IHost Host { get; }

    public FakeTimeProvider Time { get; }

    public TestLoggerProvider Logs { get; }

    public IServiceProvider Services => Host.Services;

    public CircuitBreakerRegistry Registry => Services.GetRequiredService<CircuitBreakerRegistry>();

    public static HostApplicationBuilder CreateBuilder(IDictionary<string, string?>? configuration = null)
    {
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        if (configuration is not null)
        {
            builder.Configuration.AddInMemoryCollection(configuration);
        }

        return builder;
    }

    /// <summary>Builds and starts the host with a <see cref="FakeTimeProvider"/> registered and every log collected.</summary>
    public static async Task<TestHost> StartAsync(HostApplicationBuilder builder, bool registerFakeTime = true, LogLevel minimumLevel = LogLevel.Trace)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
        if (registerFakeTime)
        {
            builder.Services.AddSingleton<TimeProvider>(time);
        }

        var logs = new TestLoggerProvider();
        builder.Logging.AddProvider(logs);
        builder.Logging.SetMinimumLevel(minimumLevel);
        IHost host = builder.Build();
        try
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new TestHost(host, time, logs);
    }

    /// <summary>Builds the host and returns what starting it throws.</summary>
    public static async Task<Exception> StartFailsAsync(HostApplicationBuilder builder)
    {
        using IHost host = builder.Build();
        return await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync(TestContext.Current.CancellationToken));
    }

    public async ValueTask DisposeAsync()
    {
        await Host.StopAsync(CancellationToken.None);
        Host.Dispose();
    }
}
