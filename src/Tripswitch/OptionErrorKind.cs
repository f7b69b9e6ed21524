namespace Tripswitch;

/// <summary>What is wrong with an option; decides the exception <see cref="OptionError.ToException"/> returns.</summary>
public enum OptionErrorKind
{
    /// <summary>The value is outside its valid range (<see cref="ArgumentOutOfRangeException"/>).</summary>
    OutOfRange,

    /// <summary>The value is invalid otherwise, for example empty, or inconsistent with another option (<see cref="ArgumentException"/>).</summary>
    Invalid,

    /// <summary>A required value is <see langword="null"/> (<see cref="ArgumentNullException"/>).</summary>
    Missing,
}
