using System.Globalization;
using StackExchange.Redis;

namespace Tripswitch.Redis;

/// <summary>
/// The Lua functions that keep a circuit's fleet-wide failure-rate window (<see cref="FailureRule.CountWindow"/>,
/// <see cref="FailureRule.TimeWindow"/>) on the Redis server and judge it. Part of every script (see
/// <see cref="RedisScripts"/>); only the report script calls them.
/// </summary>
/// <remarks>
/// <para>
/// The window lives in the circuit's own hash (field <c>w</c>, JSON: the window's shape and its buckets, oldest first,
/// each {id, calls, failures, slow calls}), so every key of a circuit stays in its hash slot on Redis Cluster. It only
/// counts while the fleet is closed, and is emptied when the fleet closes (probes, an operator's reset), as the
/// instance's own window is. A report whose shape (rule and size or duration) differs from the stored one starts a new
/// window: instances sharing a circuit should share its options.
/// </para>
/// <para>
/// <b>TimeWindow</b>: 10 buckets of <see cref="CircuitBreakerOptions.SamplingDuration"/> / 10 on the <b>server's</b>
/// clock (<c>TIME</c>), like the instance's own time window: the current bucket and the 9 before it.
/// </para>
/// <para>
/// <b>CountWindow</b>: the fleet's latest <see cref="CircuitBreakerOptions.WindowSize"/> calls can't be kept exactly from
/// counts that arrive in batches, so this is an approximation. Reports fill buckets of at least WindowSize / 10 calls in
/// the order they arrive; the oldest bucket is dropped as soon as the newer ones hold WindowSize calls. The window is the
/// latest WindowSize calls: the newer buckets whole, and the part of the oldest bucket still inside, whose failures and
/// slow calls are taken pro rata (as if its calls were evenly mixed). So the ratio is exact when the window is not full
/// yet, and otherwise off by at most the mix of one bucket's oldest calls. At most 11 buckets are kept.
/// </para>
/// <para>
/// The thresholds (<see cref="CircuitBreakerOptions.FailureRatio"/>, <see cref="CircuitBreakerOptions.MinimumThroughput"/>,
/// <see cref="CircuitBreakerOptions.SlowCallRatio"/>) come with each report, and the verdict is expressed once here
/// (<c>window_opens</c>), as the instance's own window expresses it once: at least the minimum throughput, and the
/// failure ratio (or the slow-call ratio, when set) at or above its threshold. As on the instance, the window is judged
/// when a report adds failures or slow calls. The open period is the one the reporting instance's break-duration policy
/// computed; nothing about periods is decided here.
/// </para>
/// </remarks>
internal static class RedisWindowScript
{
    /// <summary>The values a report carries for the window, after the 9 every report carries.</summary>
    public const int ReportArgs = 6;

    private const long CountWindow = 1;
    private const long TimeWindow = 2;

    /// <summary>
    /// Writes a report's window values: rule (1 count, 2 time), window size (calls) or sampling duration (ms), failure
    /// ratio, minimum throughput, slow-call ratio (0: none) and the slow calls reported; zeros for a circuit without a
    /// window (the consecutive-failure rule), which the script then doesn't judge on a window.
    /// </summary>
    /// <param name="values">The report's last <see cref="ReportArgs"/> values.</param>
    /// <param name="options">The circuit's options now (its thresholds may change on a reload).</param>
    /// <param name="slow">The slow calls since the last report.</param>
    public static void WriteReport(Span<RedisValue> values, CircuitBreakerOptions options, long slow)
    {
        if (options.Rule == FailureRule.ConsecutiveFailures)
        {
            values.Fill(0);
            return;
        }

        bool time = options.Rule == FailureRule.TimeWindow;
        values[0] = time ? TimeWindow : CountWindow;
        values[1] = time ? (long)options.SamplingDuration.TotalMilliseconds : options.WindowSize;
        values[2] = options.FailureRatio.ToString("R", CultureInfo.InvariantCulture); // round-trips to the same double in Lua
        values[3] = options.MinimumThroughput;
        values[4] = (options.SlowCallRatio ?? 0).ToString("R", CultureInfo.InvariantCulture);
        values[5] = slow;
    }

    /// <summary>Needs <c>now</c> (server ms) defined before it.</summary>
    public const string Functions = """
        local WINDOW_BUCKETS = 10

        -- The fleet's verdict: enough calls, and a failure (or slow-call) ratio at or above its threshold.
        local function window_opens(calls, failures, slow, ratio, minimum, slow_ratio)
          if calls <= 0 or calls < minimum then return false end
          return failures / calls >= ratio or (slow_ratio > 0 and slow / calls >= slow_ratio)
        end

        local function window_load(hk, shape)
          local raw = redis.call('HGET', hk, 'w')
          if raw then
            local ok, w = pcall(cjson.decode, raw)
            if ok and type(w) == 'table' and w.k == shape and type(w.b) == 'table' then
              local sound = true
              for _, b in ipairs(w.b) do
                if type(b) ~= 'table' or type(b[1]) ~= 'number' or type(b[2]) ~= 'number' or type(b[3]) ~= 'number'
                   or type(b[4]) ~= 'number' or b[2] < 0 or b[3] < 0 or b[4] < 0 then sound = false end
              end
              if sound then return w end
            end
          end
          return { k = shape, b = {} }
        end

        local function window_sum(b)
          local c, f, sl = 0, 0, 0
          for _, x in ipairs(b) do c = c + x[2]; f = f + x[3]; sl = sl + x[4] end
          return c, f, sl
        end

        -- TimeWindow: buckets of duration / 10 on the server's clock; the current one and the 9 before it count.
        local function time_window_add(w, duration, calls, failures, slow)
          local id = math.floor(now * WINDOW_BUCKETS / duration)
          local kept = {}
          for _, b in ipairs(w.b) do
            if b[1] > id - WINDOW_BUCKETS then kept[#kept + 1] = b end
          end
          local last = kept[#kept]
          if last and last[1] == id then
            last[2] = last[2] + calls; last[3] = last[3] + failures; last[4] = last[4] + slow
          else
            kept[#kept + 1] = { id, calls, failures, slow }
          end
          w.b = kept
          return window_sum(kept)
        end

        -- CountWindow: buckets of at least size / 10 calls in report order, trimmed to the latest `size` calls; the
        -- oldest bucket's part still inside counts pro rata.
        local function count_window_add(w, size, calls, failures, slow)
          local b = w.b
          local last = b[#b]
          if last and last[2] < math.ceil(size / WINDOW_BUCKETS) then
            last[2] = last[2] + calls; last[3] = last[3] + failures; last[4] = last[4] + slow
          else
            b[#b + 1] = { 0, calls, failures, slow }
          end
          local c, f, sl = window_sum(b)
          while #b > 1 and c - b[1][2] >= size do
            c = c - b[1][2]; f = f - b[1][3]; sl = sl - b[1][4]
            table.remove(b, 1)
          end
          if c > size then
            local outside = (c - size) / b[1][2]
            f = f - b[1][3] * outside; sl = sl - b[1][4] * outside; c = size
          end
          return c, f, sl
        end

        -- The report's values from ARGV[a] (its name) on: [a+1] successes, [a+2] failures, [a+9] rule (1 count, 2 time),
        -- [a+10] size (calls) or duration (ms), [a+11] failure ratio, [a+12] minimum throughput, [a+13] slow-call ratio
        -- (0: none), [a+14] slow calls. Adds them to the fleet's window; returns whether the window opens the circuit.
        local function window_report(s, a)
          local rule, size = tonumber(ARGV[a + 9]), tonumber(ARGV[a + 10])
          local failures, slow = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 14])
          local calls = tonumber(ARGV[a + 1]) + failures
          local w = window_load(s.hk, rule .. ':' .. size)
          local c, f, sl
          if rule == 2 then
            c, f, sl = time_window_add(w, size, calls, failures, slow)
          else
            c, f, sl = count_window_add(w, size, calls, failures, slow)
          end
          s.w = w
          return (failures > 0 or slow > 0)
            and window_opens(c, f, sl, tonumber(ARGV[a + 11]), tonumber(ARGV[a + 12]), tonumber(ARGV[a + 13]))
        end
        """;
}
