using System.Reflection;
using Microsoft.Extensions.Configuration;
using Tripswitch.Hosting.Configuration;

namespace Tripswitch.Hosting.Tests.Configuration;

/// <summary>The explicit (reflection-free) reader of circuit options from configuration.</summary>
public class CircuitOptionSettingsTests
{
    [Fact]
    public void Settings_CoverEveryPublicSettableOption_ExceptNameAndCodeOnlyOnes()
    {
        // Reflection is fine here, in a test: it catches an option added to CircuitBreakerOptions but not to the reader.
        string[] settable = [.. typeof(CircuitBreakerOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true } && p.Name != nameof(CircuitBreakerOptions.Name) && !CircuitOptionSettings.CodeOnly.Contains(p.Name))
            .Select(p => p.Name)
            .Order(StringComparer.Ordinal)];

        Assert.Equal(settable, CircuitOptionSettings.Names);
    }

    [Fact]
    public void Read_EveryKindOfValue_SetsTheOptions()
    {
        IConfigurationSection section = Section(
            ("Mode", "metricsonly"),
            ("Rule", "CountWindow"),
            ("FailureThreshold", " 7 "),
            ("FailureRatio", "0.25"),
            ("MinimumThroughput", "12"),
            ("WindowSize", "40"),
            ("SamplingDuration", "00:01:00"),
            ("SlowCallThreshold", "00:00:02"),
            ("SlowCallRatio", "0.75"),
            ("RecoveryTimeout", "00:00:10"),
            ("RecoveryBackoffMultiplier", "2"),
            ("RecoveryJitter", "0.1"),
            ("MaxRecoveryTimeout", "00:05:00"),
            ("SuccessThreshold", "3"),
            ("HalfOpenMaxCalls", "4"),
            ("HalfOpenProbeTimeout", "00:00:30"),
            ("fallbackonfailure", "true"));
        var errors = new List<string>();

        OptionsOverlay overlay = CircuitOptionsReader.Read(section, "Tripswitch defaults", errors);
        var options = new CircuitBreakerOptions();
        overlay.ApplyTo(options);

        Assert.Empty(errors);
        Assert.Equal(
            (CircuitBreakerMode.MetricsOnly, FailureRule.CountWindow, 7, 0.25, 12, 40, TimeSpan.FromMinutes(1)),
            (options.Mode, options.Rule, options.FailureThreshold, options.FailureRatio, options.MinimumThroughput, options.WindowSize, options.SamplingDuration));
        Assert.Equal(
            ((TimeSpan?)TimeSpan.FromSeconds(2), (double?)0.75, TimeSpan.FromSeconds(10), 2.0, 0.1, (TimeSpan?)TimeSpan.FromMinutes(5)),
            (options.SlowCallThreshold, options.SlowCallRatio, options.RecoveryTimeout, options.RecoveryBackoffMultiplier, options.RecoveryJitter, options.MaxRecoveryTimeout));
        Assert.Equal((3, 4, TimeSpan.FromSeconds(30), true), (options.SuccessThreshold, options.HalfOpenMaxCalls, options.HalfOpenProbeTimeout, options.FallbackOnFailure));
    }

    [Fact]
    public void Read_EmptyValueOfAnOptionalOption_ClearsIt()
    {
        var errors = new List<string>();
        OptionsOverlay overlay = CircuitOptionsReader.Read(Section(("SlowCallThreshold", "")), "Circuit 'a'", errors);
        var options = new CircuitBreakerOptions { SlowCallThreshold = TimeSpan.FromSeconds(1) };

        overlay.ApplyTo(options);

        Assert.Empty(errors);
        Assert.Null(options.SlowCallThreshold);
    }

    [Theory]
    [InlineData("FallbackOnFailure", "yes", "true or false")]
    [InlineData("HalfOpenMaxCalls", "1.5", "a whole number")]
    [InlineData("MaxRecoveryTimeout", "5 minutes", "a duration")]
    [InlineData("SlowCallRatio", "most", "a number such as 0.5")]
    public void Read_ValueThatDoesNotParse_NamesTheOptionAndWhatItMustBe(string key, string value, string expected)
    {
        var errors = new List<string>();

        CircuitOptionsReader.Read(Section((key, value)), "Circuit 'a'", errors);

        string error = Assert.Single(errors);
        Assert.StartsWith($"Circuit 'a': CircuitBreakerOptions.{key} (at 'Tripswitch:{key}') must be {expected}", error, StringComparison.Ordinal);
        Assert.EndsWith($"'{value}' is not.", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Overlays_SameValuesRead_AreEqual_DifferentValues_AreNot()
    {
        var errors = new List<string>();
        OptionsOverlay first = CircuitOptionsReader.Read(Section(("FailureThreshold", "3"), ("RecoveryTimeout", "00:00:10")), "x", errors);
        OptionsOverlay same = CircuitOptionsReader.Read(Section(("FailureThreshold", "03"), ("RecoveryTimeout", "00:00:10.000")), "x", errors);
        OptionsOverlay other = CircuitOptionsReader.Read(Section(("FailureThreshold", "4"), ("RecoveryTimeout", "00:00:10")), "x", errors);

        Assert.Equal(first, same); // compared by parsed value, not by text
        Assert.NotEqual(first, other);
    }

    private static IConfigurationSection Section(params (string Key, string Value)[] values)
        => new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>($"Tripswitch:{v.Key}", v.Value)))
            .Build()
            .GetSection("Tripswitch");
}
