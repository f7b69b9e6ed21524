using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.Testing;

namespace Tripswitch.AI.Tests.Infrastructure;

/// <summary>The chat tests' thresholds (on the kit's fake-time registry), and the messages every test sends.</summary>
internal static class Circuits
{
    public static readonly TimeSpan Recovery = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    public static readonly ChatMessage[] Hello = [new(ChatRole.User, "Hello")];

    public static CancellationToken Token => Xunit.TestContext.Current.CancellationToken;

    /// <summary>Two consecutive failures open a circuit for 30 s; one successful probe closes it (the kit's fake-time registry).</summary>
    public static CircuitBreakerRegistry Registry(FakeTimeProvider time, Action<CircuitBreakerOptions>? configure = null)
        => TestBreakers.Registry(time, o =>
        {
            o.FailureThreshold = 2;
            o.RecoveryTimeout = Recovery;
            o.SuccessThreshold = 1;
            configure?.Invoke(o);
        });
}
