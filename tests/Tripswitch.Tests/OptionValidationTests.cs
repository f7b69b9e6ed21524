using Xunit;

namespace Tripswitch.Tests;

/// <summary>The one validation model: options report errors as data, and <c>Validate()</c> throws the first of them.</summary>
public class OptionValidationTests
{
    [Fact]
    public void GetValidationErrors_ValidOptions_IsEmpty()
    {
        Assert.Empty(new CircuitBreakerOptions().GetValidationErrors());
        Assert.Empty(new CircuitBreakerRegistryOptions().GetValidationErrors());
    }

    [Fact]
    public void GetValidationErrors_SeveralInvalidOptions_ReportsEachAsDataInOrder()
    {
        var options = new CircuitBreakerOptions { FailureThreshold = 0, SlowCallThreshold = TimeSpan.Zero, HalfOpenMaxCalls = 5000 };

        IReadOnlyList<OptionError> errors = options.GetValidationErrors();

        Assert.Collection(
            errors,
            e =>
            {
                Assert.Equal(OptionErrorKind.OutOfRange, e.Kind);
                Assert.Equal("CircuitBreakerOptions", e.Owner);
                Assert.Equal("FailureThreshold", e.Option);
                Assert.Equal(0, e.Value);
                Assert.Equal("between 1 and 1000000", e.ValidRange);
                Assert.Equal("CircuitBreakerOptions.FailureThreshold must be between 1 and 1000000; it was 0.", e.Message);
                Assert.Null(e.Circuit);
            },
            e =>
            {
                Assert.Equal("SlowCallThreshold", e.Option);
                Assert.Equal(TimeSpan.Zero, e.Value);
                Assert.Equal("between 00:00:00.0010000 and 1.00:00:00", e.ValidRange);
            },
            e => Assert.Equal(("HalfOpenMaxCalls", (object?)5000, "between 1 and 1000"), (e.Option, e.Value, e.ValidRange)));
    }

    [Fact]
    public void Validate_ThrowsTheFirstErrorsException()
    {
        var options = new CircuitBreakerOptions { SuccessThreshold = 0, HalfOpenMaxCalls = 0 };
        OptionError first = options.GetValidationErrors()[0];

        var ex = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

        Assert.Equal(first.Option, ex.ParamName);
        Assert.Equal(first.Value, ex.ActualValue);
        Assert.StartsWith(first.Message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetValidationErrors_RangeConstantsNamedForWhatTheyBound_SamplingDurationAndProbeTimeoutAndSlowCall()
    {
        var options = new CircuitBreakerOptions
        {
            SamplingDuration = TimeSpan.FromDays(1) + TimeSpan.FromTicks(1),
            HalfOpenProbeTimeout = TimeSpan.FromDays(2),
            SlowCallThreshold = TimeSpan.FromDays(3),
        };

        string[] ranges = [.. options.GetValidationErrors().Select(e => $"{e.Option}: {e.ValidRange}")];

        Assert.Equal(
            ["SamplingDuration: between 00:00:00.1000000 and 1.00:00:00", "SlowCallThreshold: between 00:00:00.0010000 and 1.00:00:00", "HalfOpenProbeTimeout: between 00:00:00.0010000 and 1.00:00:00"],
            ranges);
    }

    [Fact]
    public void ToException_KindDecidesTheExceptionType()
    {
        var errors = new List<OptionError>();
        OptionChecks.CheckNotEmpty(errors, "MyOptions", "Prefix", " ");
        OptionChecks.CheckNotNull(errors, "MyOptions", "Clock", null, "use TimeProvider.System.");
        OptionChecks.CheckDefined(errors, "MyOptions", "Rule", (FailureRule)42);

        ArgumentException invalid = errors[0].ToException();
        ArgumentException missing = errors[1].ToException();
        ArgumentException outOfRange = errors[2].ToException();

        Assert.Equal(typeof(ArgumentException), invalid.GetType());
        Assert.StartsWith("MyOptions.Prefix must be a non-empty name; it was ' '.", invalid.Message, StringComparison.Ordinal);
        Assert.IsType<ArgumentNullException>(missing);
        Assert.StartsWith("MyOptions.Clock must not be null; use TimeProvider.System.", missing.Message, StringComparison.Ordinal);
        Assert.IsType<ArgumentOutOfRangeException>(outOfRange);
        Assert.Equal("Rule", outOfRange.ParamName);
        Assert.StartsWith("MyOptions.Rule must be one of ConsecutiveFailures, CountWindow, TimeWindow; it was 42.", outOfRange.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.5, true)]
    [InlineData(1.0, true)]
    [InlineData(2.0, true)]
    [InlineData(0.499, false)]
    [InlineData(2.001, false)]
    [InlineData(double.NaN, false)]
    public void CheckRange_BothBoundsIncluded_NaNRefused(double value, bool valid)
    {
        var errors = new List<OptionError>();

        bool result = OptionChecks.CheckRange(errors, "MyOptions", "Ratio", value, 0.5, 2.0);

        Assert.Equal(valid, result);
        Assert.Equal(valid ? 0 : 1, errors.Count);
    }

    [Fact]
    public void CheckRange_LowerBoundIsAnotherOption_NamesIt()
    {
        var options = new CircuitBreakerOptions { RecoveryTimeout = TimeSpan.FromSeconds(30), MaxRecoveryTimeout = TimeSpan.FromSeconds(10) };

        OptionError error = Assert.Single(options.GetValidationErrors());

        Assert.Equal("CircuitBreakerOptions.MaxRecoveryTimeout must be between RecoveryTimeout (00:00:30) and 1.00:00:00; it was 00:00:10.", error.Message);
    }

    [Fact]
    public void ThrowIfAny_NoErrors_DoesNotThrow_OneError_Throws()
    {
        OptionChecks.ThrowIfAny([]);

        var errors = new List<OptionError>();
        OptionChecks.CheckRange(errors, "MyOptions", "Count", 11, 1, 10);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => OptionChecks.ThrowIfAny(errors));
        Assert.StartsWith("MyOptions.Count must be between 1 and 10; it was 11.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RegistryOptions_GetValidationErrors_NamesCircuitsAndDoesNotRepeatTheDefaultsErrors()
    {
        var options = new CircuitBreakerRegistryOptions { Capacity = 0, Defaults = new CircuitBreakerOptions { FailureRatio = 1.5 } };
        options.Configure("a", o => o.FailureThreshold = 3); // inherits only the defaults' error
        options.Configure("b", o => o.FailureThreshold = 0); // has one of its own

        string[] messages = [.. options.GetValidationErrors().Select(e => e.Message)];

        Assert.Equal(
            [
                "CircuitBreakerRegistryOptions.Capacity must be between 1 and 10000000; it was 0.",
                "Circuit '(defaults)': CircuitBreakerOptions.FailureRatio must be greater than 0 and at most 1; it was 1.5.",
                "Circuit 'b': CircuitBreakerOptions.FailureThreshold must be between 1 and 1000000; it was 0.",
            ],
            messages);
    }

    [Fact]
    public void RegistryOptions_NullDefaults_IsAMissingError()
    {
        OptionError error = Assert.Single(new CircuitBreakerRegistryOptions { Defaults = null! }.GetValidationErrors());

        Assert.Equal(OptionErrorKind.Missing, error.Kind);
        Assert.Equal("Defaults", error.Option);
        Assert.IsType<ArgumentNullException>(error.ToException());
    }
}
