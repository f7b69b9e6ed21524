namespace Tripswitch.Benchmarks;

/// <summary>
/// Names the row (in the same class, with the same parameters) a benchmark is judged against, and the target from the
/// performance issue. The <see cref="TargetColumn"/> shows <c>reference time / this time</c> and whether it meets
/// <see cref="AtLeast"/>.
/// </summary>
/// <param name="reference">The name of the reference benchmark method (usually a Polly row).</param>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class ComparedToAttribute(string reference) : Attribute
{
    /// <summary>The name of the reference benchmark method.</summary>
    public string Reference { get; } = reference;

    /// <summary>The smallest acceptable <c>reference time / this time</c>; 0 for no target (information only).</summary>
    public double AtLeast { get; set; }
}
