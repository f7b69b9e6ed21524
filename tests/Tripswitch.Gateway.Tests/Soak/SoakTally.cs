using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Tripswitch.Gateway.Tests.Soak;

/// <summary>How one client request of the soak ended, from the client's side.</summary>
internal enum SoakOutcome
{
    /// <summary>A 2xx with the whole body (a completion, or a stream up to <c>data: [DONE]</c>).</summary>
    Answered,

    /// <summary>A 2xx whose body was cut midway (the upstream cut it, or was killed while sending it).</summary>
    AnsweredThenCut,

    /// <summary>An OpenAI-shaped error (<c>{"error":{…}}</c>) with a 4xx, 502, 503 or 504 status.</summary>
    OpenAIError,

    /// <summary>The upstream's own 500 passed through (its body carries <see cref="SoakUpstream.Marker"/>).</summary>
    UpstreamServerError,

    /// <summary>
    /// A connection reset with no status for a request whose response the upstream cut midway (or was killed while
    /// sending): the gateway aborts the client's connection of a response it already started (the only way to say it is
    /// incomplete), and Kestrel's abort drops the bytes of it not yet sent, so the client may see the reset before the
    /// head (see <see cref="SoakFaults.UpstreamKilledBetween"/> and <see cref="SoakUpstream.Cut"/>).
    /// </summary>
    ResetByUpstreamKill,

    /// <summary>The client went away mid-stream on purpose, after the first event.</summary>
    ClientLeftMidStream,

    /// <summary>The client cancelled on purpose before the answer was complete.</summary>
    ClientCancelled,

    /// <summary>Anything else: no answer, a 500 of the gateway's own, an error not shaped like OpenAI's, a broken 2xx body. A finding.</summary>
    Unanswered,
}

/// <summary>The soak's counts: requests by outcome and status, and the first few findings in full.</summary>
internal sealed class SoakTally
{
    private const int KeptFindings = 20;

    private readonly ConcurrentDictionary<(SoakOutcome Outcome, int Status), int> _counts = new();
    private readonly ConcurrentQueue<string> _findings = new();
    private int _findingCount;

    /// <summary>How many requests ended with <paramref name="outcome"/>.</summary>
    public int Count(SoakOutcome outcome) => _counts.Where(c => c.Key.Outcome == outcome).Sum(static c => c.Value);

    /// <summary>Every request counted.</summary>
    public int Total => _counts.Values.Sum();

    /// <summary>The first findings (requests that got no proper answer), each with what happened.</summary>
    public IReadOnlyCollection<string> Findings => _findings;

    /// <summary>Counts one request.</summary>
    public void Add(SoakOutcome outcome, int status, string? finding = null)
    {
        _counts.AddOrUpdate((outcome, status), 1, static (_, n) => n + 1);
        if (outcome == SoakOutcome.Unanswered && Interlocked.Increment(ref _findingCount) <= KeptFindings)
        {
            _findings.Enqueue(finding ?? "(no detail)");
        }
    }

    /// <summary>One line per outcome and status, like <c>OpenAIError 503: 120</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (((SoakOutcome outcome, int status), int count) in _counts.OrderBy(static c => c.Key.Outcome).ThenBy(static c => c.Key.Status))
        {
            text.Append(CultureInfo.InvariantCulture, $"  {outcome} {(status == 0 ? "-" : status.ToString(CultureInfo.InvariantCulture))}: {count}\n");
        }

        return text.ToString();
    }
}
