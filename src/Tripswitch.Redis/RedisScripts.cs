namespace Tripswitch.Redis;

/// <summary>
/// The Lua scripts that decide a shared circuit's transitions atomically on the Redis server, on the server's clock.
/// </summary>
/// <remarks>
/// Every script gets KEYS[1] = the circuit's hash, KEYS[2] = its sorted set of half-open probe leases (score = expiry, ms),
/// ARGV[1] = the pub/sub channel, ARGV[2] = the circuit's name, ARGV[3] = the key expiry (ms), then its own arguments.
/// Each returns {epoch, generation, state, ms until an open period ends, extra, open attempt}. A missing key starts
/// closed; a malformed one (wrong type, non-numeric fields) is replaced, never crashed on. Every change of state is
/// published as "epoch|generation|state|remaining ms|name". The epoch changes whenever the hash is created anew, so
/// instances never mistake a fresh generation count for an old one.
/// <para>
/// No open period is computed here: the instance whose failure trips the circuit, fails a probe (or finds a probe lease
/// expired) passes the period its circuit's own break-duration policy computed (backoff, jitter, generator, hint, caps),
/// and the script stores it. The only rule about periods here is the server's own "retry after": a hint (field
/// <c>hu</c>, the server-clock deadline it asked for) that arrived while the circuit was closed holds for the next opening.
/// </para>
/// </remarks>
internal static class RedisScripts
{
    /// <summary>The values each circuit has in a <see cref="Report"/> call.</summary>
    public const int ReportArgs = 9 + RedisWindowScript.ReportArgs;

    private const string Clock = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local ttl = tonumber(ARGV[3])
        """;

    private const string Functions = Clock + "\n" + RedisWindowScript.Functions + "\n" + """

        local function fresh(hk, lk, name, gen)
          return { hk = hk, lk = lk, name = name, epoch = now, gen = gen, st = 0, untl = 0, cf = 0, hs = 0, att = 0, hu = 0,
                   changed = true }
        end

        local function whole(x) return x ~= nil and x == math.floor(x) and x >= 0 end

        -- One circuit: hk its hash, lk its leases, name its name (for the published message).
        local function load(hk, lk, name)
          local v = redis.pcall('HMGET', hk, 'epoch', 'gen', 'st', 'until', 'cf', 'hs', 'att', 'hu')
          if type(v) ~= 'table' or v.err then
            redis.call('DEL', hk, lk)
            return fresh(hk, lk, name, 1)
          end
          if v[1] == false and v[2] == false and v[3] == false then
            local s = fresh(hk, lk, name, 0)
            s.changed = false
            s.new = true
            return s
          end
          local s = { hk = hk, lk = lk, name = name, epoch = tonumber(v[1]), gen = tonumber(v[2]), st = tonumber(v[3]),
                      untl = tonumber(v[4]), cf = tonumber(v[5]), hs = tonumber(v[6]), att = tonumber(v[7]),
                      hu = tonumber(v[8] or '0'), changed = false }
          if not (whole(s.epoch) and whole(s.gen) and whole(s.st) and s.st <= 3 and whole(s.untl) and whole(s.cf)
                  and whole(s.hs) and whole(s.att) and whole(s.hu)) then
            redis.call('DEL', hk, lk)
            return fresh(hk, lk, name, 1)
          end
          if s.st == 2 then
            local lt = redis.pcall('TYPE', lk).ok
            if lt ~= 'none' and lt ~= 'zset' then redis.call('DEL', lk) end
          end
          return s
        end

        -- ms: the period the instance computed with the circuit's own policy; a pending server hint still holds.
        local function open(s, ms, att)
          local untl = now + math.max(0, math.floor(tonumber(ms)))
          if s.hu > untl then untl = s.hu end
          s.st = 1; s.gen = s.gen + 1; s.untl = untl; s.hs = 0; s.att = att; s.hu = 0; s.changed = true
          redis.call('DEL', s.lk)
        end

        -- Closing empties the fleet's window, as closing empties an instance's own.
        local function close(s)
          s.st = 0; s.gen = s.gen + 1; s.untl = 0; s.cf = 0; s.hs = 0; s.att = 0; s.hu = 0; s.changed = true
          redis.call('DEL', s.lk)
          redis.call('HDEL', s.hk, 'w')
        end

        local function finish(s, extra)
          local remaining = 0
          if s.st == 1 and s.untl > now then remaining = s.untl - now end
          if s.changed or s.new then
            redis.call('HSET', s.hk, 'epoch', s.epoch, 'gen', s.gen, 'st', s.st, 'until', s.untl, 'cf', s.cf, 'hs', s.hs, 'att', s.att, 'hu', s.hu)
          end
          if s.w then redis.call('HSET', s.hk, 'w', cjson.encode(s.w)) end
          redis.call('PEXPIRE', s.hk, ttl)
          if s.changed then
            redis.call('PUBLISH', ARGV[1], s.epoch .. '|' .. s.gen .. '|' .. s.st .. '|' .. remaining .. '|' .. s.name)
          end
          return { s.epoch, s.gen, s.st, remaining, extra, s.att }
        end

        -- ARGV[a+1..a+8]: successes, failures, trailing failures, 1 if a success happened, threshold, open ms, epoch, gen;
        -- then a window rule's values (see window_report). A window-rule circuit (threshold 0) is judged on the fleet's window.
        local function report(s, a)
          local stale = tonumber(ARGV[a + 7]) == s.epoch and tonumber(ARGV[a + 8]) ~= s.gen
          if s.st == 0 and not stale then
            local cf = s.cf
            if tonumber(ARGV[a + 4]) == 1 then cf = tonumber(ARGV[a + 3]) else cf = cf + tonumber(ARGV[a + 2]) end
            if cf ~= s.cf then s.cf = cf; s.new = true end
            if tonumber(ARGV[a + 5]) > 0 and s.cf >= tonumber(ARGV[a + 5]) then
              open(s, ARGV[a + 6], 1)
            elseif tonumber(ARGV[a + 9]) > 0 and window_report(s, a) then
              open(s, ARGV[a + 6], 1)
            end
          end
          return finish(s, 0)
        end
        """;

    private const string Prelude = Functions + "\n" + """
        local s = load(KEYS[1], KEYS[2], ARGV[2])
        """;

    /// <summary>Reads the state (repairing a malformed key). No arguments of its own.</summary>
    public const string Get = Prelude + "\n" + """
        return finish(s, 0)
        """;

    /// <summary>
    /// Outcome reports of many circuits in one call (all of one hash slot on Redis Cluster): KEYS are the circuits'
    /// (hash, leases) pairs; ARGV[2] is unused; then, per circuit, <see cref="ReportArgs"/> values: name, successes,
    /// failures, trailing failures after the last success, 1 if a success happened, the consecutive-failure threshold
    /// (0: the circuit runs a window rule, and the fleet's consecutive count never opens it), the open period (ms) if
    /// these outcomes open the fleet (computed by the reporting instance's policy, its latest Retry-After hint included),
    /// the epoch and generation the outcomes were observed under; then the window rule (0 none, 1 count, 2 time), its
    /// window size (calls) or sampling duration (ms), failure ratio, minimum throughput, slow-call ratio (0: none) and the
    /// slow calls (see <see cref="RedisWindowScript"/>). A report from an earlier generation of this epoch is dropped: the
    /// circuit moved on since (reset, closed by probes). Returns one reply per circuit.
    /// </summary>
    public const string Report = Functions + "\n" + """
        local out = {}
        for i = 1, #KEYS / 2 do
          local a = 3 + (i - 1) * 15
          out[i] = report(load(KEYS[2 * i - 1], KEYS[2 * i], ARGV[a + 1]), a + 1)
        end
        return out
        """;

    /// <summary>Reads many circuits' states in one call (KEYS: (hash, leases) pairs; ARGV[4..]: their names). Returns one reply per circuit.</summary>
    public const string GetMany = Functions + "\n" + """
        local out = {}
        for i = 1, #KEYS / 2 do
          out[i] = finish(load(KEYS[2 * i - 1], KEYS[2 * i], ARGV[3 + i]), 0)
        end
        return out
        """;

    /// <summary>ARGV[4] open period ms (the tripping instance's, by its policy): a local trip opens the shared circuit (or extends its open period).</summary>
    public const string Trip = Prelude + "\n" + """
        local ms = tonumber(ARGV[4])
        if s.st == 0 then
          open(s, ms, 1)
        elseif s.st == 1 and now + ms > s.untl then
          s.untl = now + ms
          s.gen = s.gen + 1
          s.changed = true
        end
        return finish(s, 0)
        """;

    /// <summary>
    /// ARGV[4] hint ms (capped by the instance): extends an open period, never shortens it; while closed, the next
    /// opening lasts at least until then (whichever instance's failure completes the count).
    /// </summary>
    public const string Hint = Prelude + "\n" + """
        local ms = tonumber(ARGV[4])
        if s.st == 1 and now + ms > s.untl then
          s.untl = now + ms
          s.gen = s.gen + 1
          s.changed = true
        elseif s.st == 0 and now + ms > s.hu then
          s.hu = now + ms
          s.new = true
        end
        return finish(s, 0)
        """;

    /// <summary>
    /// ARGV[4] lease id, [5] max probes, [6] lease ms, [7] the reopening period (ms) should an expired lease be found
    /// (computed by the asking instance's policy for the next open attempt). Half-opens a circuit whose open period ended;
    /// grants a probe lease while fewer than max are out; an expired lease counts as a failed probe. Extra: 1 when the
    /// lease was granted.
    /// </summary>
    public const string Lease = Prelude + "\n" + """
        if s.st == 1 and now >= s.untl then
          s.st = 2; s.gen = s.gen + 1; s.hs = 0; s.changed = true
          redis.call('DEL', KEYS[2])
        end
        local granted = 0
        if s.st == 2 then
          local expired = redis.call('ZRANGEBYSCORE', s.lk, '-inf', now)
          if #expired > 0 then
            open(s, ARGV[7], s.att + 1)
          elseif redis.call('ZCARD', KEYS[2]) < tonumber(ARGV[5]) then
            redis.call('ZADD', KEYS[2], now + tonumber(ARGV[6]), ARGV[4])
            redis.call('PEXPIRE', KEYS[2], ttl)
            granted = 1
          end
        end
        return finish(s, granted)
        """;

    /// <summary>
    /// ARGV[4] lease id, [5] outcome (1 success, 0 failure, -1 released unused or ignored), [6] success threshold,
    /// [7] the reopening period (ms) a failure (or an expired lease) sets, computed by the reporting instance's policy.
    /// Only a live lease counts; an expired one is a failure.
    /// </summary>
    public const string Probe = Prelude + "\n" + """
        local outcome = tonumber(ARGV[5])
        if s.st == 2 then
          local score = redis.call('ZSCORE', KEYS[2], ARGV[4])
          if score then
            redis.call('ZREM', KEYS[2], ARGV[4])
            if tonumber(score) <= now then outcome = 0 end
            if outcome == 1 then
              s.hs = s.hs + 1
              s.new = true
              if s.hs >= tonumber(ARGV[6]) then close(s) end
            elseif outcome == 0 then
              open(s, ARGV[7], s.att + 1)
            end
          end
        end
        return finish(s, 0)
        """;

    /// <summary>ARGV[4] state: 0 closes (reset), 3 isolates — an operator's decision for the whole fleet.</summary>
    public const string Set = Prelude + "\n" + """
        local st = tonumber(ARGV[4])
        if st == 0 and s.st ~= 0 then
          close(s)
        elseif st == 0 then
          s.cf = 0
          s.new = true
          redis.call('HDEL', KEYS[1], 'w')
        elseif st == 3 and s.st ~= 3 then
          s.st = 3; s.gen = s.gen + 1; s.untl = 0; s.hs = 0; s.changed = true
          redis.call('DEL', KEYS[2])
        end
        return finish(s, 0)
        """;
}
