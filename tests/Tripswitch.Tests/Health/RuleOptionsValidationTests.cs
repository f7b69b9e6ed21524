using Xunit;

namespace Tripswitch.Tests.Health;

public class RuleOptionsValidationTests
{
    // Each case: what to set, and the option the exception must name (ParamName and message).
    private static readonly Dictionary<string, (Action<CircuitBreakerOptions> Apply, string Option)> _cases = new()
    {
        ["FailureRatio=0"] = (o => o.FailureRatio = 0, nameof(CircuitBreakerOptions.FailureRatio)),
        ["FailureRatio=-0.1"] = (o => o.FailureRatio = -0.1, nameof(CircuitBreakerOptions.FailureRatio)),
        ["FailureRatio=1.1"] = (o => o.FailureRatio = 1.1, nameof(CircuitBreakerOptions.FailureRatio)),
        ["FailureRatio=NaN"] = (o => o.FailureRatio = double.NaN, nameof(CircuitBreakerOptions.FailureRatio)),
        ["SlowCallRatio=0"] = (o => WithSlowWindow(o, 0), nameof(CircuitBreakerOptions.SlowCallRatio)),
        ["SlowCallRatio=-0.1"] = (o => WithSlowWindow(o, -0.1), nameof(CircuitBreakerOptions.SlowCallRatio)),
        ["SlowCallRatio=1.1"] = (o => WithSlowWindow(o, 1.1), nameof(CircuitBreakerOptions.SlowCallRatio)),
        ["SlowCallRatio=NaN"] = (o => WithSlowWindow(o, double.NaN), nameof(CircuitBreakerOptions.SlowCallRatio)),
        ["SlowCallRatio without SlowCallThreshold"] = (
            o =>
            {
                o.Rule = FailureRule.CountWindow;
                o.SlowCallRatio = 0.5;
            },
            nameof(CircuitBreakerOptions.SlowCallRatio)),
        ["SlowCallRatio with ConsecutiveFailures"] = (
            o =>
            {
                o.Rule = FailureRule.ConsecutiveFailures;
                o.SlowCallThreshold = TimeSpan.FromSeconds(1);
                o.SlowCallRatio = 0.5;
            },
            nameof(CircuitBreakerOptions.SlowCallRatio)),
        ["WindowSize=0"] = (o => o.WindowSize = 0, nameof(CircuitBreakerOptions.WindowSize)),
        ["WindowSize=0 CountWindow"] = (
            o =>
            {
                o.Rule = FailureRule.CountWindow;
                o.MinimumThroughput = 1;
                o.WindowSize = 0;
            },
            nameof(CircuitBreakerOptions.WindowSize)),
        ["MinimumThroughput=0"] = (o => o.MinimumThroughput = 0, nameof(CircuitBreakerOptions.MinimumThroughput)),
        ["MinimumThroughput>WindowSize CountWindow"] = (
            o =>
            {
                o.Rule = FailureRule.CountWindow;
                o.WindowSize = 10;
                o.MinimumThroughput = 11;
            },
            nameof(CircuitBreakerOptions.MinimumThroughput)),
        ["SamplingDuration=0"] = (o => o.SamplingDuration = TimeSpan.Zero, nameof(CircuitBreakerOptions.SamplingDuration)),
        ["SamplingDuration=99ms"] = (o => o.SamplingDuration = TimeSpan.FromMilliseconds(99), nameof(CircuitBreakerOptions.SamplingDuration)),
        ["SamplingDuration=-1s"] = (o => o.SamplingDuration = TimeSpan.FromSeconds(-1), nameof(CircuitBreakerOptions.SamplingDuration)),
        ["SlowCallThreshold=0"] = (o => o.SlowCallThreshold = TimeSpan.Zero, nameof(CircuitBreakerOptions.SlowCallThreshold)),
        ["SlowCallThreshold=-1ms"] = (o => o.SlowCallThreshold = TimeSpan.FromMilliseconds(-1), nameof(CircuitBreakerOptions.SlowCallThreshold)),
        ["MaxRecoveryTimeout<RecoveryTimeout"] = (
            o =>
            {
                o.RecoveryTimeout = TimeSpan.FromSeconds(30);
                o.MaxRecoveryTimeout = TimeSpan.FromSeconds(29);
            },
            nameof(CircuitBreakerOptions.MaxRecoveryTimeout)),
        ["MaxRecoveryTimeout<default RecoveryTimeout"] = (o => o.MaxRecoveryTimeout = TimeSpan.FromSeconds(59), nameof(CircuitBreakerOptions.MaxRecoveryTimeout)),
        ["RecoveryBackoffMultiplier=0.5"] = (o => o.RecoveryBackoffMultiplier = 0.5, nameof(CircuitBreakerOptions.RecoveryBackoffMultiplier)),
        ["RecoveryBackoffMultiplier=NaN"] = (o => o.RecoveryBackoffMultiplier = double.NaN, nameof(CircuitBreakerOptions.RecoveryBackoffMultiplier)),
        ["RecoveryBackoffMultiplier=101"] = (o => o.RecoveryBackoffMultiplier = 101, nameof(CircuitBreakerOptions.RecoveryBackoffMultiplier)),
        ["RecoveryJitter=-0.1"] = (o => o.RecoveryJitter = -0.1, nameof(CircuitBreakerOptions.RecoveryJitter)),
        ["RecoveryJitter=1"] = (o => o.RecoveryJitter = 1, nameof(CircuitBreakerOptions.RecoveryJitter)),
        ["RecoveryJitter=NaN"] = (o => o.RecoveryJitter = double.NaN, nameof(CircuitBreakerOptions.RecoveryJitter)),
        ["HalfOpenProbeTimeout=0"] = (o => o.HalfOpenProbeTimeout = TimeSpan.Zero, nameof(CircuitBreakerOptions.HalfOpenProbeTimeout)),
        ["HalfOpenProbeTimeout=-1s"] = (o => o.HalfOpenProbeTimeout = TimeSpan.FromSeconds(-1), nameof(CircuitBreakerOptions.HalfOpenProbeTimeout)),
        ["WindowSize=100001"] = (o => o.WindowSize = 100_001, nameof(CircuitBreakerOptions.WindowSize)),
        ["SamplingDuration=1d+1ms"] = (o => o.SamplingDuration = TimeSpan.FromDays(1) + TimeSpan.FromMilliseconds(1), nameof(CircuitBreakerOptions.SamplingDuration)),
        ["SlowCallThreshold=1d+1ms"] = (o => o.SlowCallThreshold = TimeSpan.FromDays(1) + TimeSpan.FromMilliseconds(1), nameof(CircuitBreakerOptions.SlowCallThreshold)),
        ["MaxRecoveryTimeout=1d+1ms"] = (o => o.MaxRecoveryTimeout = TimeSpan.FromDays(1) + TimeSpan.FromMilliseconds(1), nameof(CircuitBreakerOptions.MaxRecoveryTimeout)),
        ["HalfOpenProbeTimeout=1d+1ms"] = (o => o.HalfOpenProbeTimeout = TimeSpan.FromDays(1) + TimeSpan.FromMilliseconds(1), nameof(CircuitBreakerOptions.HalfOpenProbeTimeout)),
        ["Rule=undefined"] = (o => o.Rule = (FailureRule)42, nameof(CircuitBreakerOptions.Rule)),
        ["Mode=undefined"] = (o => o.Mode = (CircuitBreakerMode)42, nameof(CircuitBreakerOptions.Mode)),
    };

    [Theory]
    [InlineData("FailureRatio=0")]
    [InlineData("FailureRatio=-0.1")]
    [InlineData("FailureRatio=1.1")]
    [InlineData("FailureRatio=NaN")]
    [InlineData("SlowCallRatio=0")]
    [InlineData("SlowCallRatio=-0.1")]
    [InlineData("SlowCallRatio=1.1")]
    [InlineData("SlowCallRatio=NaN")]
    [InlineData("SlowCallRatio without SlowCallThreshold")]
    [InlineData("SlowCallRatio with ConsecutiveFailures")]
    [InlineData("WindowSize=0")]
    [InlineData("WindowSize=0 CountWindow")]
    [InlineData("MinimumThroughput=0")]
    [InlineData("MinimumThroughput>WindowSize CountWindow")]
    [InlineData("SamplingDuration=0")]
    [InlineData("SamplingDuration=99ms")]
    [InlineData("SamplingDuration=-1s")]
    [InlineData("SlowCallThreshold=0")]
    [InlineData("SlowCallThreshold=-1ms")]
    [InlineData("MaxRecoveryTimeout<RecoveryTimeout")]
    [InlineData("MaxRecoveryTimeout<default RecoveryTimeout")]
    [InlineData("RecoveryBackoffMultiplier=0.5")]
    [InlineData("RecoveryBackoffMultiplier=NaN")]
    [InlineData("RecoveryBackoffMultiplier=101")]
    [InlineData("RecoveryJitter=-0.1")]
    [InlineData("RecoveryJitter=1")]
    [InlineData("RecoveryJitter=NaN")]
    [InlineData("HalfOpenProbeTimeout=0")]
    [InlineData("HalfOpenProbeTimeout=-1s")]
    [InlineData("WindowSize=100001")]
    [InlineData("SamplingDuration=1d+1ms")]
    [InlineData("SlowCallThreshold=1d+1ms")]
    [InlineData("MaxRecoveryTimeout=1d+1ms")]
    [InlineData("HalfOpenProbeTimeout=1d+1ms")]
    [InlineData("Rule=undefined")]
    [InlineData("Mode=undefined")]
    public void Constructor_InvalidRuleOrRecoveryOption_ThrowsNamingTheOption(string @case)
    {
        (Action<CircuitBreakerOptions> apply, string option) = _cases[@case];
        var options = new CircuitBreakerOptions { Name = TestBreakers.UniqueName() };
        apply(options);

        ArgumentException fromConstructor = Assert.ThrowsAny<ArgumentException>(() => new CircuitBreaker(options));
        ArgumentException fromValidate = Assert.ThrowsAny<ArgumentException>(options.Validate);

        foreach (ArgumentException ex in new[] { fromConstructor, fromValidate })
        {
            Assert.Equal(option, ex.ParamName);

            // The message itself (not only the "(Parameter '…')" suffix the runtime appends) names the option.
            string ownMessage = ex.Message.Replace($"(Parameter '{ex.ParamName}')", string.Empty, StringComparison.Ordinal);
            Assert.Contains($"{nameof(CircuitBreakerOptions)}.{option}", ownMessage, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("FailureRatio=0")]
    [InlineData("WindowSize=0")]
    [InlineData("SamplingDuration=99ms")]
    [InlineData("RecoveryJitter=1")]
    [InlineData("MaxRecoveryTimeout<RecoveryTimeout")]
    [InlineData("Rule=undefined")]
    public void Constructor_OutOfRangeNumber_ThrowsArgumentOutOfRangeWithTheValue(string @case)
    {
        (Action<CircuitBreakerOptions> apply, string option) = _cases[@case];
        var options = new CircuitBreakerOptions { Name = TestBreakers.UniqueName() };
        apply(options);

        ArgumentOutOfRangeException ex = Assert.Throws<ArgumentOutOfRangeException>(() => new CircuitBreaker(options));

        Assert.Equal(option, ex.ParamName);
        Assert.NotNull(ex.ActualValue);
        Assert.Contains("it was", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_MinimumThroughputAboveWindowSizeWithTimeWindow_IsAccepted()
    {
        // The "at most WindowSize" bound belongs to the count window only: a time window ignores WindowSize.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        CircuitBreaker breaker = TestBreakers.CreateUnique(time, o =>
        {
            o.Rule = FailureRule.TimeWindow;
            o.WindowSize = 10;
            o.MinimumThroughput = 11;
            o.FailureRatio = 1;
        });

        TestBreakers.Fail(breaker, 10);
        Assert.Equal(CircuitState.Closed, breaker.State);
        TestBreakers.Fail(breaker);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void Options_Defaults_MatchDocumentedPollyCompatibleValues()
    {
        var options = new CircuitBreakerOptions();

        Assert.Equal(CircuitBreakerMode.Enabled, options.Mode);
        Assert.Equal(FailureRule.ConsecutiveFailures, options.Rule);
        Assert.Equal(0.1, options.FailureRatio);
        Assert.Equal(100, options.MinimumThroughput);
        Assert.Equal(100, options.WindowSize);
        Assert.Equal(TimeSpan.FromSeconds(30), options.SamplingDuration);
        Assert.Null(options.SlowCallThreshold);
        Assert.Null(options.SlowCallRatio);
        Assert.Equal(1.0, options.RecoveryBackoffMultiplier);
        Assert.Equal(0.0, options.RecoveryJitter);
        Assert.Null(options.MaxRecoveryTimeout);
        Assert.Null(options.BreakDurationGenerator);
        Assert.Null(options.RetryAfterExtractor);
        Assert.Equal(TimeSpan.FromMinutes(2), options.HalfOpenProbeTimeout);
    }

    [Fact]
    public void Constructor_OptionsChangedAfterwards_BreakerKeepsItsOwnCopy()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        CircuitBreakerOptions options = TestBreakers.UniqueOptions(time, o =>
        {
            o.Rule = FailureRule.CountWindow;
            o.WindowSize = 4;
            o.MinimumThroughput = 4;
            o.FailureRatio = 1;
        });
        var breaker = new CircuitBreaker(options);
        options.Rule = FailureRule.ConsecutiveFailures;
        options.FailureThreshold = 1;

        TestBreakers.Fail(breaker, 3);

        Assert.Equal(CircuitState.Closed, breaker.State);
        TestBreakers.Fail(breaker);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    private static void WithSlowWindow(CircuitBreakerOptions options, double ratio)
    {
        options.Rule = FailureRule.CountWindow;
        options.MinimumThroughput = 10;
        options.SlowCallThreshold = TimeSpan.FromSeconds(1);
        options.SlowCallRatio = ratio;
    }
}
