using Tripswitch.Controller;

namespace Tripswitch.Health;

/// <summary>The failure ratio over the last N calls (a ring of outcomes).</summary>
internal sealed class CountWindowRule(CircuitBreakerOptions options) : WindowRule(options)
{
    private const byte FailureBit = 1;
    private const byte SlowBit = 2;

    private readonly Lock _sync = new();
    private readonly byte[] _ring = new byte[options.WindowSize];
    private int _next;
    private int _count;
    private int _failures;
    private int _slow;

    public override void Record(CallCounters.Slot slot, bool failure, bool slow)
    {
        byte outcome = (byte)((failure ? FailureBit : 0) | (slow ? SlowBit : 0));
        lock (_sync)
        {
            if (_count == _ring.Length)
            {
                byte evicted = _ring[_next];
                _failures -= evicted & FailureBit;
                _slow -= (evicted & SlowBit) >> 1;
            }
            else
            {
                _count++;
            }

            _ring[_next] = outcome;
            _next = (_next + 1) % _ring.Length;
            _failures += outcome & FailureBit;
            _slow += (outcome & SlowBit) >> 1;
        }
    }

    public override WindowCounts Current()
    {
        lock (_sync)
        {
            return new WindowCounts(_count, _failures, _slow);
        }
    }

    public override void Reset()
    {
        lock (_sync)
        {
            _next = 0;
            _count = 0;
            _failures = 0;
            _slow = 0;
        }
    }
}
