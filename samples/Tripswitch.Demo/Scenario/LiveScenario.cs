using System.ClientModel;
using System.Collections.Concurrent;
using System.Net;
using OpenAI.Chat;
using Tripswitch.FakeLlm;

namespace Tripswitch.Demo;

/// <summary>
/// The live scenario: FakeLlm on 127.0.0.1 serving three models, simulated users asking them questions through the
/// official OpenAI client and Tripswitch's HTTP handler (a circuit per model), phases that script FakeLlm's outage and
/// rate limit on real time, and a fallback to another model whenever a model's circuit rejects a request.
/// </summary>
/// <remarks>
/// Use: construct (the registry exists at once, so Redis or a dashboard can be attached to it), <see cref="PrepareAsync"/>
/// (starts FakeLlm), then <see cref="RunAsync"/>. The views read <see cref="Registry"/>, <see cref="CurrentPhase"/>,
/// <see cref="Elapsed"/> and <see cref="Traffic"/> while it runs.
/// </remarks>
internal sealed class LiveScenario : IAsyncDisposable
{
    private readonly TimeProvider _time;
    private readonly ConcurrentQueue<TransitionRecord> _timeline = new();
    private readonly ConcurrentDictionary<(string From, string To), FallbackTally> _fallbacks = new();
    private FakeLlmServer? _server;
    private ModelClients? _clients;
    private DateTimeOffset _startedAt;
    private long _startTimestamp;
    private TimeSpan _origin;
    private volatile bool _started;
    private volatile ScenarioPhase? _phase;
    private long _requests;
    private long _answered;
    private long _fellBack;
    private long _failed;
    private long _unavailable;

    public LiveScenario(ScenarioSettings settings, TimeProvider? time = null)
    {
        Settings = settings;
        _time = time ?? TimeProvider.System;
        Registry = new CircuitBreakerRegistry(new CircuitBreakerOptions
        {
            FailureThreshold = settings.FailureThreshold,
            RecoveryTimeout = settings.RecoveryTimeout,
            SuccessThreshold = settings.SuccessThreshold,
            HalfOpenMaxCalls = 1,
            HalfOpenProbeTimeout = settings.RequestTimeout * 2,
            TimeProvider = _time,
        });
        Registry.StateChanged += OnStateChanged;

        // Every model's circuit exists from the start: the view lists them all, and a fleet shares them all.
        foreach (string model in ScenarioSettings.Models)
        {
            Registry.Get(ScenarioSettings.CircuitKey(model));
        }
    }

    public ScenarioSettings Settings { get; }

    /// <summary>Receives what happens; set it before <see cref="RunAsync"/> (and before sharing the circuits with a fleet).</summary>
    public IScenarioObserver Observer { get; set; } = new ObserverGroup();

    public CircuitBreakerRegistry Registry { get; }

    /// <summary>Whether the registry's circuits are shared with a fleet (a circuit opened without a failure here came from the fleet).</summary>
    public bool SharedWithFleet { get; set; }

    /// <summary>FakeLlm's endpoint, once <see cref="PrepareAsync"/> has run.</summary>
    public Uri ServerEndpoint => _server?.ApiEndpoint ?? throw new InvalidOperationException("PrepareAsync has not run.");

    public ScenarioPhase? CurrentPhase => _phase;

    /// <summary>Whether the run is past its duration, waiting for the circuits to close.</summary>
    public bool Overtime { get; private set; }

    public TimeSpan Elapsed => _started ? _origin + _time.GetElapsedTime(_startTimestamp) : TimeSpan.Zero;

    public TrafficTotals Traffic => new(
        Interlocked.Read(ref _requests),
        Interlocked.Read(ref _answered),
        Interlocked.Read(ref _fellBack),
        Interlocked.Read(ref _failed),
        Interlocked.Read(ref _unavailable));

    /// <summary>Starts FakeLlm and the OpenAI clients.</summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        _server = await FakeLlmServer.StartAsync(new FakeLlmServerOptions { Models = [.. ScenarioSettings.Models] }, cancellationToken);
        _clients = new ModelClients(_server.ApiEndpoint, ScenarioSettings.Models, Registry, Settings.RequestTimeout);
    }

    /// <summary>
    /// Runs the scenario on real time: the phases, then (past the duration) until every circuit is closed again or
    /// <see cref="ScenarioSettings.MaxOvertime"/> is over. <paramref name="abort"/> (Ctrl+C) stops it early.
    /// </summary>
    /// <param name="abort">Stops the run and cancels the requests in flight.</param>
    /// <param name="startedAt">The origin of the relative times (a fleet's members use their first instance's).</param>
    public async Task<ScenarioResult> RunAsync(CancellationToken abort, DateTimeOffset? startedAt = null)
    {
        FakeLlmServer server = _server ?? throw new InvalidOperationException("PrepareAsync has not run.");
        // Elapsed counts from startedAt (the fleet's common start, or when the caller decided to start), on the
        // monotonic clock; transitions, stamped with the wall clock, are measured from the same origin.
        _startTimestamp = _time.GetTimestamp();
        DateTimeOffset now = _time.GetUtcNow();
        _startedAt = startedAt is { } origin && origin <= now ? origin : now;
        _origin = now - _startedAt;
        _started = true;
        var start = new ScenarioStart(Settings, server.ApiEndpoint, _startedAt);
        Observer.Started(start);

        using var stopping = new CancellationTokenSource();
        Task[] users = [.. Enumerable.Range(1, Settings.Users).Select(user => Task.Run(() => UserLoopAsync(user, stopping.Token, abort), CancellationToken.None))];

        bool interrupted = false;
        try
        {
            foreach (ScenarioPhase phase in Settings.Phases)
            {
                await DelayUntilAsync(phase.Start, abort);
                if (Settings.ScriptFailures)
                {
                    phase.Script(server);
                }

                _phase = phase;
                Observer.PhaseStarted(phase, Elapsed);
            }

            await DelayUntilAsync(Settings.Duration, abort);
            Overtime = true;
            while (!AllCircuitsClosed() && Elapsed < Settings.Duration + Settings.MaxOvertime)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), _time, abort);
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            interrupted = true;
        }

        await stopping.CancelAsync();
        await Task.WhenAll(users);
        TimeSpan elapsed = Elapsed;

        ScenarioResult result = BuildResult(start, elapsed, interrupted);
        Observer.Finished(result);
        return result;
    }

    private bool AllCircuitsClosed() => ScenarioSettings.Models.All(model => Registry.Get(ScenarioSettings.CircuitKey(model)).State == CircuitState.Closed);

    private async Task DelayUntilAsync(TimeSpan at, CancellationToken cancellationToken)
    {
        TimeSpan wait = at - Elapsed;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, _time, cancellationToken);
        }
    }

    private async Task UserLoopAsync(int user, CancellationToken stopping, CancellationToken abort)
    {
#pragma warning disable CA5394 // Not security: seeded, repeatable traffic is the point.
        var random = new Random(unchecked((Settings.Seed * 7919) + (Settings.Instance * 104_729) + user));
        string model = ScenarioSettings.PrimaryModel(user);
        int question = random.Next(ScenarioSettings.QuestionCount);
        try
        {
            // Users don't all arrive at the same moment.
            await Task.Delay(Settings.MaxThinkTime * random.NextDouble(), _time, stopping);
            while (!stopping.IsCancellationRequested)
            {
                RequestRecord record = await AskAsync(user, model, ScenarioSettings.Question(question++), abort);
                Count(record);
                Observer.RequestCompleted(record);
                TimeSpan think = Settings.MinThinkTime + ((Settings.MaxThinkTime - Settings.MinThinkTime) * random.NextDouble());
                await Task.Delay(think, _time, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested || abort.IsCancellationRequested)
        {
            // The run is over (or Ctrl+C): the user goes home.
        }
#pragma warning restore CA5394
    }

    /// <summary>
    /// One question: the user's model first, then, while a model's circuit rejects the request, the next model of its
    /// route. A rejected request never reaches FakeLlm. A model that is called and fails gives the user an error (and
    /// its circuit counts it): falling back happens only when the circuit already knows the model is down.
    /// </summary>
    private async Task<RequestRecord> AskAsync(int user, string askedModel, string question, CancellationToken abort)
    {
        ModelClients clients = _clients!;
        SkippedCircuit? skipped = null;
        foreach (string model in ScenarioSettings.Route(askedModel))
        {
            try
            {
                ClientResult<ChatCompletion> result = await clients[model].CompleteChatAsync([new UserChatMessage(question)], cancellationToken: abort);
                string answer = result.Value.Content.Count > 0 ? result.Value.Content[0].Text : string.Empty;
                return new RequestRecord(user, askedModel, model, skipped is null ? RequestOutcome.Answered : RequestOutcome.FellBack, answer, skipped, Elapsed);
            }
            catch (Exception e) when (ModelClients.FindCircuitOpen(e) is { } open)
            {
                // The circuit rejected the request at once: try the next model.
                skipped ??= new SkippedCircuit(model, open.State, open.RetryAfter);
            }
            catch (Exception e) when (!abort.IsCancellationRequested)
            {
                return new RequestRecord(user, askedModel, model, RequestOutcome.Failed, Describe(e), skipped, Elapsed);
            }
        }

        return new RequestRecord(user, askedModel, null, RequestOutcome.Unavailable, "every model's circuit is open", skipped, Elapsed);
    }

    private string Describe(Exception e) => e switch
    {
        ClientResultException { Status: 429 } rateLimited => rateLimited.GetRawResponse()?.Headers.TryGetValue("Retry-After", out string? retryAfter) == true
            ? $"HTTP 429 Too Many Requests, Retry-After: {retryAfter}"
            : "HTTP 429 Too Many Requests",
        ClientResultException { Status: >= 400 } status => $"HTTP {status.Status} {ReasonPhrase(status.Status)}",
        ClientResultException other => $"connection failed: {other.InnerException?.Message ?? other.Message}",
        OperationCanceledException { InnerException: TimeoutException } => $"no answer within {Format.Seconds(Settings.RequestTimeout)}",
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    private static string ReasonPhrase(int status) => status switch
    {
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => string.Empty,
    };

    private void Count(RequestRecord record)
    {
        Interlocked.Increment(ref _requests);
        switch (record.Outcome)
        {
            case RequestOutcome.Answered:
                Interlocked.Increment(ref _answered);
                break;
            case RequestOutcome.FellBack:
                Interlocked.Increment(ref _fellBack);
                FallbackTally tally = _fallbacks.GetOrAdd((record.Skipped!.Model, record.CalledModel!), static _ => new FallbackTally());
                tally.Add(record.Detail);
                break;
            case RequestOutcome.Failed:
                Interlocked.Increment(ref _failed);
                break;
            default:
                Interlocked.Increment(ref _unavailable);
                break;
        }
    }

    private void OnStateChanged(object? sender, CircuitTransition transition)
    {
        long failures = Registry.TryGet(transition.CircuitName, out CircuitBreaker? breaker) ? breaker.GetSummary().Failed : 0;
        bool fromFleet = SharedWithFleet && transition.To == CircuitState.Open && transition.Cause is null;
        string cause = transition.Cause switch
        {
            HttpRequestException { StatusCode: HttpStatusCode status } => Format.Invariant($"HTTP {(int)status}"),
            TimeoutException => "timeout",
            { } other => other.GetType().Name,
            null when fromFleet => "from the fleet",
            null => transition.To switch
            {
                CircuitState.HalfOpen => "open period over",
                CircuitState.Closed => "probes succeeded",
                _ => string.Empty,
            },
        };

        TimeSpan at = _started ? transition.At - _startedAt : TimeSpan.Zero;
        var record = new TransitionRecord(transition.CircuitName, transition.From, transition.To, at < TimeSpan.Zero ? TimeSpan.Zero : at, cause, fromFleet, failures, Settings.Instance);
        _timeline.Enqueue(record);
        Observer.StateChanged(record);
    }

    private ScenarioResult BuildResult(ScenarioStart start, TimeSpan elapsed, bool interrupted)
    {
        TransitionRecord[] timeline = [.. _timeline.OrderBy(static t => t.At)];
        var circuits = new List<CircuitResult>();
        foreach (string model in ScenarioSettings.Models)
        {
            string key = ScenarioSettings.CircuitKey(model);
            CircuitSummary summary = Registry.Get(key).GetSummary();
            TransitionRecord[] own = [.. timeline.Where(t => t.Circuit == key)];
            TimeSpan longest = OpenPeriods(own, elapsed).Select(static p => p.Length).DefaultIfEmpty().Max();
            int opened = own.Count(static t => t.To == CircuitState.Open);
            circuits.Add(new CircuitResult(key, model, summary, opened, longest, opened > 0 && summary.State == CircuitState.Closed));
        }

        FallbackRoute[] fallbacks = [.. _fallbacks
            .Select(static pair => new FallbackRoute(pair.Key.From, pair.Key.To, pair.Value.Count, pair.Value.Sample))
            .OrderByDescending(static f => f.Count)];

        // The rate limit's trip: how long did the circuit stay open after the 429 that opened it?
        string limited = ScenarioSettings.CircuitKey(ScenarioSettings.RateLimitedModel);
        TransitionRecord[] limitedTimeline = [.. timeline.Where(t => t.Circuit == limited)];
        (TimeSpan Start, TimeSpan Length)? byRateLimit = OpenPeriods(limitedTimeline, elapsed)
            .Where(p => limitedTimeline.Any(t => t.To == CircuitState.Open && t.At == p.Start && t.Cause == "HTTP 429"))
            .Select(static p => ((TimeSpan, TimeSpan)?)p)
            .FirstOrDefault();
        var retryAfter = new RetryAfterCheck(limited, Settings.RateLimitRetryAfter, Settings.RecoveryTimeout, byRateLimit?.Length);

        return new ScenarioResult(start, elapsed, interrupted, Settings.Phases, circuits, Traffic, fallbacks, timeline, retryAfter);
    }

    /// <summary>The open periods in a circuit's timeline: from each transition to open until the next one out of open (or the end).</summary>
    private static IEnumerable<(TimeSpan Start, TimeSpan Length)> OpenPeriods(TransitionRecord[] timeline, TimeSpan end)
    {
        for (int i = 0; i < timeline.Length; i++)
        {
            if (timeline[i].To != CircuitState.Open)
            {
                continue;
            }

            TransitionRecord? next = timeline.Skip(i + 1).FirstOrDefault(static t => t.From == CircuitState.Open);
            yield return (timeline[i].At, (next?.At ?? end) - timeline[i].At);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _clients?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    private sealed class FallbackTally
    {
        private int _count;
        private string? _sample;

        public int Count => Volatile.Read(ref _count);

        public string Sample => Volatile.Read(ref _sample) ?? string.Empty;

        public void Add(string answer)
        {
            Interlocked.Increment(ref _count);
            Interlocked.CompareExchange(ref _sample, answer, null);
        }
    }
}
