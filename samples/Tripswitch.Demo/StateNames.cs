namespace Tripswitch.Demo;

/// <summary>The lower-case names the seed's exercise prints: <c>closed</c>, <c>open</c>, <c>half-open</c>.</summary>
internal static class StateNames
{
    public static string ToDisplayName(this CircuitState state) => state switch
    {
        CircuitState.Closed => "closed",
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "half-open",
        CircuitState.Isolated => "isolated",
        _ => state.ToString().ToLowerInvariant(),
    };

    /// <summary>A transition as the seed prints it, e.g. <c>closed → open</c>.</summary>
    public static string ToDisplayName(this CircuitTransition transition)
        => $"{transition.From.ToDisplayName()} → {transition.To.ToDisplayName()}";
}
