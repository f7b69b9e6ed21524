using Tripswitch.Controller;
using Xunit;

namespace Tripswitch.Tests.Controller;

/// <summary>
/// The break-duration policy on its own (the only place an open period is computed), for what the circuit-level tests
/// in <see cref="BackoffTests"/>, <see cref="BreakDurationGeneratorTests"/> and <see cref="RetryAfterTests"/> can't see:
/// a hint handed on to a fleet as it is capped. Found by mutation testing (docs/mutation.md).
/// </summary>
public class BreakDurationPolicyTests
{
    private static BreakDurationPolicy Policy(Action<CircuitBreakerOptions>? configure = null)
        => new(
            TestBreakers.Options(TestBreakers.Clock(), "policy", o =>
            {
                o.RecoveryTimeout = TimeSpan.FromSeconds(5);
                o.MaxRecoveryTimeout = TimeSpan.FromMinutes(1);
                configure?.Invoke(o);
            }),
            "policy");

    [Theory]
    [InlineData(-1)]
    [InlineData(-30_000)]
    public void CapHint_NegativeHint_IsZeroNeverNegative(int milliseconds)
    {
        // A clock skew or a bad Retry-After date gives a negative hint: a fleet is told "no hint", not "minus 30 s".
        Assert.Equal(TimeSpan.Zero, Policy().CapHint(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [Fact]
    public void CapHint_BetweenZeroAndMax_Unchanged_AboveMax_Max()
    {
        BreakDurationPolicy policy = Policy();

        Assert.Equal(TimeSpan.FromSeconds(40), policy.CapHint(TimeSpan.FromSeconds(40)));
        Assert.Equal(TimeSpan.FromMinutes(1), policy.CapHint(TimeSpan.FromHours(3)));
        Assert.Equal(TimeSpan.FromMinutes(1), policy.Max);
    }
}
