using System.Collections.Concurrent;
using System.Net;

namespace Tripswitch.Demo;

/// <summary>The knobs of the hands-on exercise.</summary>
internal sealed record ExerciseSettings
{
    // With this seed the default run shows every rule of the pattern in about 20 calls: a success that resets the
    // failure count, the trip, a probe that succeeds and a second one that fails, a failed probe, and the recovery.
    public const int DefaultSeed = 25;

    public int Seed { get; init; } = DefaultSeed;

    public string CircuitName { get; init; } = "flaky-api";

    /// <summary>The share of requests the server fails with HTTP 500.</summary>
    public double FailureRate { get; init; } = 0.7;

    public int FailureThreshold { get; init; } = 3;

    public TimeSpan RecoveryTimeout { get; init; } = TimeSpan.FromMilliseconds(800);

    public int SuccessThreshold { get; init; } = 2;

    public int HalfOpenMaxCalls { get; init; } = 1;

    /// <summary>The exercise makes at least this many calls, and goes on until the circuit has recovered from a trip.</summary>
    public int MinCalls { get; init; } = 10;

    /// <summary>The exercise never makes more calls than this, recovered or not.</summary>
    public int MaxCalls { get; init; } = 100;

    /// <summary>The pause between calls while the circuit lets calls through.</summary>
    public TimeSpan PauseWhileClosed { get; init; } = TimeSpan.FromMilliseconds(150);

    /// <summary>The pause between calls while the circuit is open, so the open period passes in a few calls.</summary>
    public TimeSpan PauseWhileOpen { get; init; } = TimeSpan.FromMilliseconds(300);

    /// <summary>How long one HTTP call may take before it counts as failed.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// The seed's hands-on exercise, for real: a <see cref="CircuitBreaker"/> with a failure threshold of 3 protects
/// calls over HTTP to a server that fails 70 % of requests. It runs until the circuit has tripped and closed again
/// (and at least <see cref="ExerciseSettings.MinCalls"/> calls were made), or until <see cref="ExerciseSettings.MaxCalls"/>.
/// </summary>
internal sealed class HandsOnExercise
{
    private readonly ExerciseSettings _settings;
    private readonly IExerciseObserver _observer;
    private readonly TimeProvider _time;

    // Transitions arrive through the breaker's event while a call runs; they are handed to the observer at fixed
    // points (before a call line when they happened before the call, after it when the call caused them).
    private readonly ConcurrentQueue<CircuitTransition> _transitions = new();

    public HandsOnExercise(ExerciseSettings settings, IExerciseObserver observer, TimeProvider? time = null)
    {
        _settings = settings;
        _observer = observer;
        _time = time ?? TimeProvider.System;
    }

    public async Task<ExerciseResult> RunAsync(CancellationToken cancellationToken)
    {
        await using FlakyServer server = await FlakyServer.StartAsync(_settings.Seed, _settings.FailureRate, cancellationToken);
        using var handler = new SocketsHttpHandler { UseProxy = false };
        using var http = new HttpClient(handler) { BaseAddress = server.Address, Timeout = _settings.CallTimeout };

        var breaker = new CircuitBreaker(new CircuitBreakerOptions
        {
            Name = _settings.CircuitName,
            FailureThreshold = _settings.FailureThreshold,
            RecoveryTimeout = _settings.RecoveryTimeout,
            SuccessThreshold = _settings.SuccessThreshold,
            HalfOpenMaxCalls = _settings.HalfOpenMaxCalls,
            TimeProvider = _time,
        });
        breaker.StateChanged += (_, transition) => _transitions.Enqueue(transition);

        _observer.Started(_settings, server.Address);
        DateTimeOffset start = _time.GetUtcNow();
        long startTimestamp = _time.GetTimestamp();

        var tracker = new RecoveryTracker();
        int calls = 0;
        int completed = 0;
        bool interrupted = false;
        while (calls < _settings.MaxCalls && !(calls >= _settings.MinCalls && tracker.Recovered && tracker.Current == CircuitState.Closed))
        {
            calls++;
            try
            {
                // Reading the state moves an open circuit whose open period is over to half-open: report that first.
                CircuitState state = breaker.State;
                DeliverTransitions(start, tracker);

                (CallOutcome outcome, string detail) = await CallAsync(breaker, http, cancellationToken);
                _observer.CallCompleted(new CallRecord(calls, state, outcome, detail, _time.GetElapsedTime(startTimestamp)));
                completed = calls;
                DeliverTransitions(start, tracker);

                if (calls < _settings.MaxCalls)
                {
                    TimeSpan pause = tracker.Current == CircuitState.Open ? _settings.PauseWhileOpen : _settings.PauseWhileClosed;
                    await Task.Delay(pause, _time, cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C: stop, but still show what happened so far. A call cut short is neither success nor failure.
                interrupted = true;
                break;
            }
        }

        CircuitSummary summary = breaker.GetSummary();
        DeliverTransitions(start, tracker);
        var result = new ExerciseResult(
            summary,
            start,
            _time.GetElapsedTime(startTimestamp),
            completed,
            tracker.Changes,
            tracker.Recovered,
            HitCallCap: !interrupted && !(tracker.Recovered && tracker.Current == CircuitState.Closed),
            Interrupted: interrupted);
        _observer.Finished(result);
        return result;
    }

    /// <summary>One call through the breaker. A non-success HTTP status counts as a failure.</summary>
    private static async Task<(CallOutcome Outcome, string Detail)> CallAsync(CircuitBreaker breaker, HttpClient http, CancellationToken cancellationToken)
    {
        try
        {
            string body = await breaker.ExecuteAsync(
                async ct =>
                {
                    using HttpResponseMessage response = await http.GetAsync(new Uri(FlakyServer.FlakyPath.TrimStart('/'), UriKind.Relative), ct);
                    response.EnsureSuccessStatusCode();
                    return await response.Content.ReadAsStringAsync(ct);
                },
                cancellationToken);
            return (CallOutcome.Succeeded, $"ok: HTTP 200 \"{body}\"");
        }
        catch (CircuitOpenException ex)
        {
            return (CallOutcome.Rejected, $"rejected: {ex.Message}");
        }
        catch (HttpRequestException ex) when (ex.StatusCode is HttpStatusCode status)
        {
            return (CallOutcome.Failed, $"failed: HTTP {(int)status} {ReasonPhrase(status)}");
        }
        catch (HttpRequestException ex)
        {
            return (CallOutcome.Failed, $"failed: {ex.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (CallOutcome.Failed, "failed: timed out");
        }
    }

    /// <summary><c>InternalServerError</c> → <c>Internal Server Error</c>.</summary>
    private static string ReasonPhrase(HttpStatusCode status)
    {
        string name = status.ToString();
        var phrase = new System.Text.StringBuilder(name.Length + 4);
        foreach (char c in name)
        {
            if (char.IsUpper(c) && phrase.Length > 0)
            {
                phrase.Append(' ');
            }

            phrase.Append(c);
        }

        return phrase.ToString();
    }

    private void DeliverTransitions(DateTimeOffset start, RecoveryTracker tracker)
    {
        while (_transitions.TryDequeue(out CircuitTransition transition))
        {
            tracker.Observe(transition);
            _observer.StateChanged(transition, transition.At - start);
        }
    }

    /// <summary>Follows the transitions to know the current state without reading <see cref="CircuitBreaker.State"/> (which can move it).</summary>
    private sealed class RecoveryTracker
    {
        public CircuitState Current { get; private set; } = CircuitState.Closed;

        public bool Tripped { get; private set; }

        /// <summary>Whether the circuit has closed again after a trip.</summary>
        public bool Recovered { get; private set; }

        public int Changes { get; private set; }

        public void Observe(CircuitTransition transition)
        {
            Changes++;
            Current = transition.To;
            if (transition.To == CircuitState.Open)
            {
                Tripped = true;
            }
            else if (transition.To == CircuitState.Closed && Tripped)
            {
                Recovered = true;
            }
        }
    }
}
