using System.Numerics;
using System.Runtime.InteropServices;

namespace Tripswitch.Controller;

/// <summary>
/// Exact call counters striped per processor: each call increments one counter in the stripe of the processor it
/// runs on, so two cores never bounce a shared cache line on the hot path; reads sum the stripes.
/// Every increment is atomic, so no count is ever lost, whatever thread migrates where.
/// </summary>
internal sealed class CallCounters
{
    private const int MaxStripes = 16;

    private readonly Stripe[] _stripes;
    private readonly int _mask;

    public CallCounters()
    {
        int stripes = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(Environment.ProcessorCount, 1, MaxStripes));
        _stripes = new Stripe[stripes];
        _mask = stripes - 1;
    }

    private ref Stripe Current
    {
        get
        {
            // GetCurrentProcessorId is cached by the runtime and costs about a nanosecond.
            return ref _stripes[Thread.GetCurrentProcessorId() & _mask];
        }
    }

    public void AddStarted() => Interlocked.Increment(ref Current.Started);

    public void AddSuccess() => Interlocked.Increment(ref Current.Successful);

    public void AddFailure() => Interlocked.Increment(ref Current.Failed);

    public void AddIgnored() => Interlocked.Increment(ref Current.Ignored);

    public void AddRejected() => Interlocked.Increment(ref Current.Rejected);

    public CounterSnapshot Read()
    {
        long started = 0, successful = 0, failed = 0, ignored = 0, rejected = 0;
        for (int i = 0; i < _stripes.Length; i++)
        {
            ref Stripe s = ref _stripes[i];
            // Read outcomes before starts: a call counted as completed here has always been counted as started,
            // so in-flight never comes out negative.
            successful += Volatile.Read(ref s.Successful);
            failed += Volatile.Read(ref s.Failed);
            ignored += Volatile.Read(ref s.Ignored);
            rejected += Volatile.Read(ref s.Rejected);
        }

        for (int i = 0; i < _stripes.Length; i++)
        {
            started += Volatile.Read(ref _stripes[i].Started);
        }

        return new CounterSnapshot(started, successful, failed, ignored, rejected);
    }

    /// <summary>One processor's counters, padded so that neighbouring stripes never share a cache line.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct Stripe
    {
        [FieldOffset(64)] public long Started;
        [FieldOffset(72)] public long Successful;
        [FieldOffset(80)] public long Failed;
        [FieldOffset(88)] public long Ignored;
        [FieldOffset(96)] public long Rejected;
    }
}

/// <summary>A sum of the striped counters at one moment.</summary>
internal readonly record struct CounterSnapshot(long Started, long Successful, long Failed, long Ignored, long Rejected)
{
    /// <summary>Calls that were let through and have not reported an outcome yet.</summary>
    public long InFlight => Started - Successful - Failed - Ignored;
}
