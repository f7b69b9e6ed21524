using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Tripswitch.Hosting.Tests.DependencyInjection;

public class AddTripswitchConfigurationTests
{
    private static Dictionary<string, string?> Settings(params (string Key, string? Value)[] values)
        => values.ToDictionary(v => "Tripswitch:" + v.Key, v => v.Value);

    private static HostApplicationBuilder BuilderWith(params (string Key, string? Value)[] values)
    {
        HostApplicationBuilder builder = TestHost.CreateBuilder(Settings(values));
        builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch"));
        return builder;
    }

    [Fact]
    public async Task AddTripswitch_ConfigurationSection_AppliesDefaultsAndPerCircuitOverrides()
    {
        await using TestHost host = await TestHost.StartAsync(BuilderWith(
            ("Defaults:FailureThreshold", "4"),
            ("Defaults:RecoveryTimeout", "00:00:30"),
            ("Circuits:openai/gpt-4.1:FailureThreshold", "2"),
            ("Circuits:openai/gpt-4.1-mini:Mode", "MetricsOnly")));

        CircuitBreaker gpt = host.Registry.Get("openai/gpt-4.1");
        CircuitBreaker other = host.Registry.Get("anthropic/claude");
        CircuitBreaker mini = host.Registry.Get("openai/gpt-4.1-mini");

        Assert.Equal(2, Calls.FailuresToOpen(gpt));
        Assert.Equal(4, Calls.FailuresToOpen(other));
        Assert.Equal(TimeSpan.FromSeconds(30), gpt.GetSummary().RetryAfter); // the override keeps the defaults it doesn't name
        Assert.Equal(TimeSpan.FromSeconds(30), other.GetSummary().RetryAfter);

        Calls.Fail(mini, 10); // MetricsOnly: never rejects
        Calls.Succeed(mini);
        Assert.Equal(0, mini.GetSummary().Rejected);
    }

    [Fact]
    public async Task AddTripswitch_CapacityAndCriticalFromConfiguration_AreBound()
    {
        await using TestHost host = await TestHost.StartAsync(BuilderWith(
            ("Capacity", "2"),
            ("Critical:0", "openai/gpt-4.1"),
            ("Critical:1", "openai/o3")));

        TripswitchOptions options = host.Services.GetRequiredService<IOptions<TripswitchOptions>>().Value;
        Assert.Equal(2, options.Capacity);
        Assert.Equal(["openai/gpt-4.1", "openai/o3"], options.Critical.Order(StringComparer.Ordinal));

        for (int i = 0; i < 10; i++)
        {
            host.Registry.Get($"key-{i}");
        }

        Assert.True(host.Registry.Count <= 2, $"the registry holds {host.Registry.Count} circuits past a capacity of 2");
    }

    [Theory]
    [InlineData("Defaults:FailureThreshhold", "Tripswitch defaults", "FailureThreshhold", "FailureThreshold")]
    [InlineData("Circuits:openai/gpt-4.1:RecoveryTimout", "Circuit 'openai/gpt-4.1'", "RecoveryTimout", "RecoveryTimeout")]
    [InlineData("Defautls:FailureThreshold", "Tripswitch configuration", "Defautls", "Defaults")]
    [InlineData("Capacty", "Tripswitch configuration", "Capacty", "Capacity")]
    public async Task AddTripswitch_TypoInConfiguration_FailsStartNamingTheKey(string key, string owner, string typo, string suggestion)
    {
        Exception error = await TestHost.StartFailsAsync(BuilderWith((key, "5")));

        OptionsValidationException validation = Assert.IsType<OptionsValidationException>(error);
        string failure = Assert.Single(validation.Failures);
        Assert.StartsWith(owner, failure, StringComparison.Ordinal);
        Assert.Contains($"'{typo}'", failure, StringComparison.Ordinal);
        Assert.Contains($"(at 'Tripswitch:{key[..(key.IndexOf(typo, StringComparison.Ordinal) + typo.Length)]}')", failure, StringComparison.Ordinal);
        Assert.Contains($"Did you mean '{suggestion}'?", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddTripswitch_InvalidValueForCircuit_FailsStartNamingCircuitOptionAndRange()
    {
        Exception error = await TestHost.StartFailsAsync(BuilderWith(("Circuits:openai/gpt-4.1:FailureThreshold", "0")));

        OptionsValidationException validation = Assert.IsType<OptionsValidationException>(error);
        string failure = Assert.Single(validation.Failures);
        Assert.Equal("Circuit 'openai/gpt-4.1': CircuitBreakerOptions.FailureThreshold must be between 1 and 1000000; it was 0.", failure);
    }

    [Fact]
    public async Task AddTripswitch_InvalidDefault_FailsStartOnceNotPerCircuit()
    {
        Exception error = await TestHost.StartFailsAsync(BuilderWith(
            ("Defaults:FailureRatio", "1.5"),
            ("Circuits:a:FailureThreshold", "3"),
            ("Circuits:b:FailureThreshold", "0")));

        OptionsValidationException validation = Assert.IsType<OptionsValidationException>(error);
        Assert.Equal(2, validation.Failures.Count());
        Assert.Contains(validation.Failures, f => f.StartsWith("Circuit '(defaults)': CircuitBreakerOptions.FailureRatio", StringComparison.Ordinal));
        Assert.Contains(validation.Failures, f => f.StartsWith("Circuit 'b': CircuitBreakerOptions.FailureThreshold", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Defaults:FailureThreshold", "abc", "Tripswitch defaults: CircuitBreakerOptions.FailureThreshold", "a whole number")]
    [InlineData("Circuits:openai/gpt-4.1:RecoveryTimeout", "soon", "Circuit 'openai/gpt-4.1': CircuitBreakerOptions.RecoveryTimeout", "a duration")]
    [InlineData("Circuits:openai/gpt-4.1:Rule", "Sometimes", "Circuit 'openai/gpt-4.1': CircuitBreakerOptions.Rule", "one of ConsecutiveFailures, CountWindow, TimeWindow")]
    [InlineData("Defaults:FailureRatio", "half", "Tripswitch defaults: CircuitBreakerOptions.FailureRatio", "a number")]
    public async Task AddTripswitch_UnconvertibleValue_FailsStartNamingTheOption(string key, string value, string prefix, string expected)
    {
        Exception error = await TestHost.StartFailsAsync(BuilderWith((key, value)));

        OptionsValidationException validation = Assert.IsType<OptionsValidationException>(error);
        string failure = Assert.Single(validation.Failures);
        Assert.StartsWith(prefix, failure, StringComparison.Ordinal);
        Assert.Contains(expected, failure, StringComparison.Ordinal);
        Assert.Contains($"'{value}'", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ShouldHandle")]
    [InlineData("TimeProvider")]
    [InlineData("RetryAfterExtractor")]
    [InlineData("MeterFactory")]
    public async Task AddTripswitch_CodeOnlyOptionInConfiguration_FailsStartSayingToUseCode(string option)
    {
        Exception error = await TestHost.StartFailsAsync(BuilderWith(($"Defaults:{option}", "x")));

        string failure = Assert.Single(Assert.IsType<OptionsValidationException>(error).Failures);
        Assert.Contains($"CircuitBreakerOptions.{option} from code", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddTripswitch_CircuitNameWithColon_FailsStartExplainingTheSeparator()
    {
        Exception error = await TestHost.StartFailsAsync(BuilderWith(("Circuits:openai:gpt-4.1:FailureThreshold", "3")));

        OptionsValidationException validation = Assert.IsType<OptionsValidationException>(error);
        Assert.Contains(validation.Failures, f => f.StartsWith("Circuit 'openai': 'gpt-4.1'", StringComparison.Ordinal));
        Assert.Contains(validation.Failures, f => f.Contains("cannot contain ':'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddTripswitch_EmptyValueForOptionalOption_ClearsTheDefault()
    {
        await using TestHost host = await TestHost.StartAsync(BuilderWith(
            ("Defaults:FailureThreshold", "3"),
            ("Defaults:SlowCallThreshold", "00:00:01"),
            ("Circuits:slow-is-fine:SlowCallThreshold", "")));

        CircuitBreaker timed = host.Registry.Get("timed");
        CircuitBreaker untimed = host.Registry.Get("slow-is-fine");
        for (int i = 0; i < 3; i++)
        {
            timed.Execute(() => host.Time.Advance(TimeSpan.FromSeconds(2))); // slow successes count as failures
            untimed.Execute(() => host.Time.Advance(TimeSpan.FromSeconds(2)));
        }

        Assert.Equal(CircuitState.Open, timed.State);
        Assert.Equal(CircuitState.Closed, untimed.State);
    }

    [Fact]
    public async Task AddTripswitch_CodeAndConfiguration_CombineInOrder()
    {
        HostApplicationBuilder builder = TestHost.CreateBuilder(Settings(
            ("Defaults:FailureThreshold", "3"),
            ("Defaults:SuccessThreshold", "4"),
            ("Circuits:openai/gpt-4.1:FailureThreshold", "2")));
        builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch"))
            .Configure(o => o.Defaults.SuccessThreshold = 1) // code after configuration wins
            .ConfigureCircuit("openai/gpt-4.1", o => o.ShouldHandle = ex => ex is TimeoutException); // delegates from code only
        await using TestHost host = await TestHost.StartAsync(builder);

        CircuitBreaker gpt = host.Registry.Get("openai/gpt-4.1");
        Calls.Fail(gpt, 5); // not handled by its ShouldHandle
        Assert.Equal(CircuitState.Closed, gpt.State);
        for (int i = 0; i < 2; i++)
        {
            Assert.Throws<TimeoutException>(() => gpt.Execute(() => throw new TimeoutException()));
        }

        Assert.Equal(CircuitState.Open, gpt.State); // its configured threshold of 2 still applies

        CircuitBreaker other = host.Registry.Get("other");
        Assert.Equal(3, Calls.FailuresToOpen(other));
        host.Time.Advance(TimeSpan.FromMinutes(1));
        Calls.Succeed(other);
        Assert.Equal(CircuitState.Closed, other.State); // SuccessThreshold 1 from code
    }

    [Fact]
    public async Task AddTripswitch_InvalidOptionsFromCode_FailsStart()
    {
        HostApplicationBuilder builder = TestHost.CreateBuilder();
        builder.Services.AddTripswitch(o =>
        {
            o.Capacity = 0;
            o.Configure("openai/gpt-4.1", c => c.HalfOpenMaxCalls = 5000);
        });

        OptionsValidationException validation = Assert.IsType<OptionsValidationException>(await TestHost.StartFailsAsync(builder));
        Assert.Contains(validation.Failures, f => f.StartsWith("CircuitBreakerRegistryOptions.Capacity must be between 1 and 10000000", StringComparison.Ordinal));
        Assert.Contains(validation.Failures, f => f.StartsWith("Circuit 'openai/gpt-4.1': CircuitBreakerOptions.HalfOpenMaxCalls", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddTripswitch_TimeProviderRegistered_CircuitsUseIt()
    {
        HostApplicationBuilder builder = TestHost.CreateBuilder();
        builder.Services.AddTripswitch(o => o.Defaults.FailureThreshold = 1);
        await using TestHost host = await TestHost.StartAsync(builder);

        CircuitBreaker breaker = host.Registry.Get("a");
        Calls.Fail(breaker);
        Assert.Equal(host.Time.GetUtcNow(), breaker.GetSummary().Transitions[^1].At);
        host.Time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(CircuitState.HalfOpen, breaker.State);
    }

    [Fact]
    public async Task AddTripswitch_NoTimeProviderRegistered_CircuitsUseTheSystemClock()
    {
        HostApplicationBuilder builder = TestHost.CreateBuilder();
        builder.Services.AddTripswitch(o => o.Defaults.FailureThreshold = 1);
        await using TestHost host = await TestHost.StartAsync(builder, registerFakeTime: false);

        CircuitBreaker breaker = host.Registry.Get("a");
        DateTimeOffset before = TimeProvider.System.GetUtcNow();
        Calls.Fail(breaker);
        DateTimeOffset at = breaker.GetSummary().Transitions[^1].At;
        Assert.InRange(at, before, TimeProvider.System.GetUtcNow());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AddTripswitch_WithHttpHandlerInEitherOrder_HandlerUsesTheConfiguredRegistry(bool tripswitchFirst)
    {
        await using ScriptedServer upstream = await ScriptedServer.StartAsync();
        upstream.Respond(500);
        HostApplicationBuilder builder = TestHost.CreateBuilder();
        if (tripswitchFirst)
        {
            builder.Services.AddTripswitch(o => o.Defaults.FailureThreshold = 1);
        }

        builder.Services.AddHttpClient("upstream")
            .AddCircuitBreakerHandler();
        if (!tripswitchFirst)
        {
            builder.Services.AddTripswitch(o => o.Defaults.FailureThreshold = 1);
        }

        await using TestHost host = await TestHost.StartAsync(builder);
        HttpClient client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("upstream");

        using HttpResponseMessage first = await client.GetAsync(new Uri(upstream.BaseAddress, "v1"), TestContext.Current.CancellationToken);
        Assert.Single(host.Services.GetServices<CircuitBreakerRegistry>());
        Assert.Equal(CircuitState.Open, host.Registry.Status()[upstream.AuthorityKey]); // threshold 1: the configured registry
        await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync(new Uri(upstream.BaseAddress, "v1"), TestContext.Current.CancellationToken));
        Assert.Equal(1, upstream.Requests);
    }

    [Fact]
    public async Task AddTripswitch_CircuitSectionNamedByTheHandlersDefaultKey_ConfiguresThatHostsCircuit()
    {
        await using ScriptedServer upstream = await ScriptedServer.StartAsync();
        upstream.Respond(500);
        string name = $"127.0.0.1-{upstream.BaseAddress.Port}"; // written out: the name a user puts in appsettings
        HostApplicationBuilder builder = BuilderWith(
            ("Defaults:FailureThreshold", "5"),
            ($"Circuits:{name}:FailureThreshold", "2"));
        builder.Services.AddHttpClient("upstream", c => c.BaseAddress = upstream.BaseAddress)
            .AddCircuitBreakerHandler(); // no KeySelector: the default key
        await using TestHost host = await TestHost.StartAsync(builder);
        HttpClient client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("upstream");

        using HttpResponseMessage first = await client.GetAsync(new Uri("v1", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(CircuitState.Closed, host.Registry.Status()[name]);
        using HttpResponseMessage second = await client.GetAsync(new Uri("v1", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(CircuitState.Open, host.Registry.Status()[name]); // 2, the circuit's section, not the default 5
        CircuitOpenException rejected = await Assert.ThrowsAsync<CircuitOpenException>(() => client.GetAsync(new Uri("v1", UriKind.Relative), TestContext.Current.CancellationToken));
        Assert.Equal(name, rejected.CircuitName);
        Assert.Equal(2, upstream.Requests);
    }

    [Fact]
    public async Task AddTripswitch_CalledTwice_RegistersOneRegistryWithBothConfigurations()
    {
        HostApplicationBuilder builder = TestHost.CreateBuilder();
        builder.Services.AddTripswitch(o => o.Defaults.FailureThreshold = 2);
        builder.Services.AddTripswitch(o => o.Configure("b", c => c.FailureThreshold = 3));
        await using TestHost host = await TestHost.StartAsync(builder);

        Assert.Single(host.Services.GetServices<CircuitBreakerRegistry>());
        Assert.Same(host.Registry, host.Services.GetRequiredService<CircuitBreakerRegistry>());
        Assert.Equal(2, Calls.FailuresToOpen(host.Registry.Get("a")));
        Assert.Equal(3, Calls.FailuresToOpen(host.Registry.Get("b")));
    }

    [Fact]
    public void AddTripswitch_WithoutHost_InvalidOptionsFailWhenTheRegistryIsResolved()
    {
        var services = new ServiceCollection();
        services.AddTripswitch(o => o.Defaults.RecoveryTimeout = TimeSpan.Zero);
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<CircuitBreakerRegistry>());
        Assert.Contains("CircuitBreakerOptions.RecoveryTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddTripswitch_WithoutHostOrLogging_ResolvesAWorkingRegistry()
    {
        var services = new ServiceCollection();
        services.AddTripswitch(o => o.Defaults.FailureThreshold = 1);
        using ServiceProvider provider = services.BuildServiceProvider();

        CircuitBreaker breaker = provider.GetRequiredService<CircuitBreakerRegistry>().Get("a");
        Calls.Fail(breaker);
        Assert.Equal(CircuitState.Open, breaker.State);
    }
}
