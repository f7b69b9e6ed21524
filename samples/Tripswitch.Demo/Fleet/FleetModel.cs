using System.Text.Json;
using System.Text.Json.Serialization;

namespace Tripswitch.Demo;

/// <summary>Receives what a fleet's members report while the scenario runs (from the threads reading their output).</summary>
internal interface IFleetObserver
{
    void FleetMemberReady(FleetMemberStatus member);

    void FleetTransition(TransitionRecord transition);
}

/// <summary>A fleet member as its parent knows it: updated from the lines it prints. Thread-safe.</summary>
internal sealed class FleetMemberStatus(int instance, int processId)
{
    private readonly Lock _sync = new();
    private readonly Dictionary<string, CircuitState> _states = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TransitionRecord> _firstOpen = new(StringComparer.Ordinal);

    public int Instance { get; } = instance;

    public int ProcessId { get; } = processId;

    public string Endpoint { get; private set; } = string.Empty;

    public long Requests { get; private set; }

    public long FellBack { get; private set; }

    public long Failed { get; private set; }

    public ResultMessage? Result { get; private set; }

    public int? ExitCode { get; set; }

    public CircuitState? StateOf(string circuit)
    {
        lock (_sync)
        {
            return _states.TryGetValue(circuit, out CircuitState state) ? state : null;
        }
    }

    public TransitionRecord? FirstOpen(string circuit)
    {
        lock (_sync)
        {
            return _firstOpen.GetValueOrDefault(circuit);
        }
    }

    public void OnReady(ReadyMessage ready) => Endpoint = ready.Endpoint;

    public TransitionRecord OnTransition(TransitionMessage message)
    {
        var record = new TransitionRecord(message.Circuit, message.From, message.To, TimeSpan.FromSeconds(message.AtSeconds), message.Cause, message.FromFleet, message.LocalFailures, Instance);
        lock (_sync)
        {
            _states[record.Circuit] = record.To;
            if (record.To == CircuitState.Open)
            {
                _firstOpen.TryAdd(record.Circuit, record);
            }
        }

        return record;
    }

    public void OnStatus(StatusMessage status)
    {
        lock (_sync)
        {
            Requests = status.Requests;
            FellBack = status.FellBack;
            Failed = status.Failed;
            foreach ((string circuit, CircuitState state) in status.Circuits)
            {
                _states[circuit] = state;
            }
        }
    }

    public void OnResult(ResultMessage result)
    {
        lock (_sync)
        {
            Result = result;
            Requests = result.Requests;
            FellBack = result.FellBack;
            Failed = result.Failed;
            foreach (CircuitEnd circuit in result.Circuits)
            {
                _states[circuit.Circuit] = circuit.State;
            }
        }
    }
}

/// <summary>The fleet at the end of a run.</summary>
internal sealed record FleetReport(string Redis, string KeyPrefix, IReadOnlyList<FleetInstanceReport> Instances, IReadOnlyList<FleetPropagation> Propagation);

/// <summary>One instance of the fleet at the end.</summary>
internal sealed record FleetInstanceReport(int Instance, int ProcessId, bool Origin, long Requests, long FellBack, long Failed, IReadOnlyList<FleetCircuitReport> Circuits, int? ExitCode);

/// <summary>One circuit of one instance: when it first saw the circuit open, and how.</summary>
internal sealed record FleetCircuitReport(string Circuit, TimeSpan? FirstOpenAt, bool FromFleet, long FailuresBeforeOpen, CircuitState? StateAtEnd);

/// <summary>One trip's way through the fleet: who tripped it, and whether every instance saw it open.</summary>
internal sealed record FleetPropagation(string Circuit, int TrippedBy, TimeSpan TrippedAt, bool SeenByAll);

/// <summary>
/// The lines a fleet's member prints on its standard output for its parent (one message a line: a word, a space, JSON),
/// and the one line the parent writes to each member's standard input: <c>START &lt;unix ms&gt;</c>. A member whose
/// standard input closes (the parent is gone) stops.
/// </summary>
internal static class FleetProtocol
{
    public const string Ready = "READY";
    public const string Transition = "TRANSITION";
    public const string Status = "STATUS";
    public const string Result = "RESULT";
    public const string Start = "START";

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    public static string Line<T>(string kind, T payload) => kind + " " + JsonSerializer.Serialize(payload, s_json);

    public static (string Kind, string Payload) Split(string line)
    {
        int space = line.IndexOf(' ', StringComparison.Ordinal);
        return space < 0 ? (line, string.Empty) : (line[..space], line[(space + 1)..]);
    }

    public static T Read<T>(string payload) => JsonSerializer.Deserialize<T>(payload, s_json) ?? throw new JsonException("null message");
}

internal sealed record ReadyMessage(int ProcessId, string Endpoint);

internal sealed record TransitionMessage(string Circuit, CircuitState From, CircuitState To, double AtSeconds, string Cause, bool FromFleet, long LocalFailures);

internal sealed record StatusMessage(long Requests, long FellBack, long Failed, Dictionary<string, CircuitState> Circuits);

internal sealed record ResultMessage(long Requests, long FellBack, long Failed, IReadOnlyList<CircuitEnd> Circuits);

internal sealed record CircuitEnd(string Circuit, CircuitState State, long Successful, long Failed, long Rejected);
