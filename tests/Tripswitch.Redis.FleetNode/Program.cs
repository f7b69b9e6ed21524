using System.Globalization;
using Tripswitch;
using Tripswitch.Redis;
using Tripswitch.Redis.FleetNode;
using Tripswitch.Testing;

// One member of a fleet sharing a circuit through Redis, driven by line commands on stdin (see Usage), or the
// propagation measurement ("measure"). Used by tests/Tripswitch.Redis.Tests (MultiProcessTests) as a separate OS process.
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine(Usage.Text);
    return args.Length == 0 ? 2 : 0;
}

try
{
    var options = CommandLine.Parse(args.AsSpan(1));
    return args[0] switch
    {
        "node" => await Node.RunAsync(options),
        "measure" => await Propagation.RunAsync(options),
        "load" => await Load.RunAsync(options),
        _ => Usage.Fail($"unknown mode '{args[0]}'"),
    };
}
catch (ArgumentException ex)
{
    return Usage.Fail(ex.Message);
}

namespace Tripswitch.Redis.FleetNode
{
    internal static class Usage
    {
        public const string Text = """
            Tripswitch.Redis.FleetNode — one fleet member sharing a circuit through Redis.

              node    --redis <configuration> --circuit <name> [--prefix <p>] [--failure-threshold N]
                      [--recovery-ms N] [--success-threshold N] [--half-open-max-calls N] [--probe-timeout-ms N]
                      [--report-ms N] [--resync-ms N] [--rule consecutive|count|time] [--window-size N]
                      [--sampling-ms N] [--minimum-throughput N] [--failure-ratio R]
                  The window options apply with --rule count (CountWindow) or time (TimeWindow). Prints "ready", then follows one command per line on stdin, answering one line each:
                    fail        a failing call       -> "failed" | "rejected <State>"
                    ok          a succeeding call    -> "ok" | "probe-ok" | "rejected <State>"
                    hold-probe  take a half-open probe permit and never report it
                                                     -> "probe-held" | "not-probe" | "rejected <State>"
                    state       -> "state <State>"
                    degraded    -> "degraded True|False"
                    quit        exits (code 0)

              measure [--redis <configuration>] [--trips N] [--instances N] [--out <file.md>]
                  Measures the propagation delay (trip on instance A -> every other instance rejects) over N trips
                  (default 200) across N instances (default 10) and writes a Markdown report. Without --redis, starts
                  its own redis-server on a free loopback port.

              load [--circuits 1,100,10000] [--seconds N] [--out <file.md>]
                  Measures one instance's Redis load (commands/s, bytes/s from INFO deltas) with that many circuits all
                  active, and writes a Markdown report. Starts its own redis-server on a free loopback port.
            """;

        public static int Fail(string message)
        {
            Console.Error.WriteLine($"FleetNode: {message}");
            Console.Error.WriteLine("Run with --help for the usage.");
            return 2;
        }
    }

    internal sealed class CommandLine
    {
        private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

        public static CommandLine Parse(ReadOnlySpan<string> args)
        {
            var line = new CommandLine();
            for (int i = 0; i < args.Length; i++)
            {
                if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                {
                    throw new ArgumentException($"expected '--option value', got '{args[i]}'");
                }

                line._values[args[i][2..]] = args[++i];
            }

            return line;
        }

        public string? Get(string name) => _values.GetValueOrDefault(name);

        public string Require(string name) => Get(name) ?? throw new ArgumentException($"--{name} is required");

        public int Int(string name, int fallback)
            => Get(name) is { } text
                ? int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture)
                : fallback;

        public double Double(string name, double fallback)
            => Get(name) is { } text
                ? double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)
                : fallback;

        public FailureRule Rule() => Get("rule") switch
        {
            null or "consecutive" => FailureRule.ConsecutiveFailures,
            "count" => FailureRule.CountWindow,
            "time" => FailureRule.TimeWindow,
            var other => throw new ArgumentException($"--rule must be consecutive, count or time, not '{other}'"),
        };
    }

    /// <summary>The line-command fleet member.</summary>
    internal static class Node
    {
        public static async Task<int> RunAsync(CommandLine options)
        {
            var registry = new CircuitBreakerRegistry(new CircuitBreakerOptions
            {
                FailureThreshold = options.Int("failure-threshold", 3),
                RecoveryTimeout = TimeSpan.FromMilliseconds(options.Int("recovery-ms", 500)),
                SuccessThreshold = options.Int("success-threshold", 1),
                HalfOpenMaxCalls = options.Int("half-open-max-calls", 1),
                HalfOpenProbeTimeout = TimeSpan.FromMilliseconds(options.Int("probe-timeout-ms", 120_000)),
                Rule = options.Rule(),
                WindowSize = options.Int("window-size", 100),
                SamplingDuration = TimeSpan.FromMilliseconds(options.Int("sampling-ms", 30_000)),
                MinimumThroughput = options.Int("minimum-throughput", 100),
                FailureRatio = options.Double("failure-ratio", 0.1),
            });
            await using RedisCircuitSharing sharing = await RedisCircuitSharing.ConnectAsync(registry, options.Require("redis"), new RedisCircuitOptions
            {
                KeyPrefix = options.Get("prefix") ?? "tripswitch:",
                ReportInterval = TimeSpan.FromMilliseconds(options.Int("report-ms", 50)),
                ResyncInterval = TimeSpan.FromMilliseconds(options.Int("resync-ms", 1000)),
            });
            CircuitBreaker breaker = registry.Get(options.Require("circuit"));
            var held = new List<CircuitPermit>(); // probes that never report: a hung prober
            Console.WriteLine("ready");

            while (Console.ReadLine() is { } command)
            {
                switch (command.Trim())
                {
                    case "fail":
                        try
                        {
                            breaker.Execute(static () => throw new TestFailureException());
                        }
                        catch (TestFailureException)
                        {
                            Console.WriteLine("failed");
                        }
                        catch (CircuitOpenException ex)
                        {
                            Console.WriteLine($"rejected {ex.State}");
                        }

                        break;

                    case "ok":
                        if (breaker.TryAcquirePermit(out CircuitPermit permit, out _))
                        {
                            bool probe = permit.IsProbe;
                            permit.RecordSuccess();
                            Console.WriteLine(probe ? "probe-ok" : "ok");
                        }
                        else
                        {
                            Console.WriteLine($"rejected {breaker.State}");
                        }

                        break;

                    case "hold-probe":
                        if (breaker.TryAcquirePermit(out CircuitPermit probePermit, out _))
                        {
                            if (probePermit.IsProbe)
                            {
                                held.Add(probePermit);
                                Console.WriteLine("probe-held");
                            }
                            else
                            {
                                probePermit.RecordSuccess();
                                Console.WriteLine("not-probe");
                            }
                        }
                        else
                        {
                            Console.WriteLine($"rejected {breaker.State}");
                        }

                        break;

                    case "state":
                        Console.WriteLine($"state {breaker.State}");
                        break;

                    case "degraded":
                        Console.WriteLine($"degraded {sharing.IsDegraded}");
                        break;

                    case "quit":
                        return 0;

                    default:
                        Console.WriteLine($"unknown {command}");
                        break;
                }
            }

            return 0;
        }
    }
}
