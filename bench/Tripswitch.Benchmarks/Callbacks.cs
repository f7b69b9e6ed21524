using System.Runtime.CompilerServices;

namespace Tripswitch.Benchmarks;

/// <summary>
/// The one callback shape every row protects: a static lambda returning a cached value, created once. Tripswitch, Polly
/// and the direct-call baseline all invoke these same delegate instances, so the rows differ only in the wrapper.
/// </summary>
/// <remarks>
/// The lambdas are <see cref="MethodImplOptions.NoInlining"/>: otherwise dynamic PGO devirtualises and inlines them
/// into the baseline row, which then measures an empty method (about 0 ns, so every Ratio shows "?"), while a real
/// callback (an HTTP call, a model call) is never inlined into its wrapper either. Every row pays the same real call.
/// </remarks>
internal static class Callbacks
{
    /// <summary>The value every callback returns; setups check it to prove the callback really ran.</summary>
    public const int Value = 42;

    /// <summary>The synchronous callback.</summary>
    public static readonly Func<int> Sync = [MethodImpl(MethodImplOptions.NoInlining)] static () => Value;

    /// <summary>The asynchronous callback: completes synchronously and allocates nothing.</summary>
    public static readonly Func<CancellationToken, ValueTask<int>> Async = [MethodImpl(MethodImplOptions.NoInlining)] static (_) => new ValueTask<int>(Value);

    /// <summary>Throws unless <paramref name="condition"/> holds: setups use it so that no row silently measures the wrong path.</summary>
    public static void Require(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"Benchmark setup check failed: {what}");
        }
    }
}
