using System.Collections.Concurrent;
using Xunit;
using Xunit.Sdk;

namespace Tripswitch.Testing;

/// <summary>
/// Real threads racing in rounds: <see cref="Start"/> runs a body on each of N threads, every participant (the N workers
/// and the test's thread) meets at <see cref="Sync"/>, and <see cref="Join"/> ends the race. A worker that throws cancels
/// <see cref="Token"/>, so every thread waiting at <see cref="Sync"/> (or on anything given <see cref="Token"/>) wakes up,
/// and the test fails with the worker's exception; a race still running after its timeout fails too, instead of hanging
/// the run.
/// </summary>
public sealed class ThreadRace : IDisposable
{
    /// <summary>The default bound on a whole race: far above what any race here needs, even on a loaded machine.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    private readonly Barrier _barrier;
    private readonly CancellationTokenSource _timedOut;
    private readonly CancellationTokenSource _abort;
    private readonly ConcurrentQueue<Exception> _failures = new();
    private readonly TimeSpan _timeout;
    private readonly long _started = TimeProvider.System.GetTimestamp();
    private readonly List<Thread> _threads = [];

    /// <summary>A race of <paramref name="threads"/> workers plus the test's thread, failed after <paramref name="timeout"/>.</summary>
    public ThreadRace(int threads, TimeSpan? timeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        _timeout = timeout ?? DefaultTimeout;
        _barrier = new Barrier(threads + 1);
        _timedOut = new CancellationTokenSource(_timeout);
        _abort = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken, _timedOut.Token);
    }

    /// <summary>How many worker threads race.</summary>
    public int Threads { get; }

    /// <summary>Cancelled when a worker throws, when the race times out, or when the test is cancelled: pass it to every wait.</summary>
    public CancellationToken Token => _abort.Token;

    /// <summary>Runs <paramref name="body"/> on <paramref name="threads"/> threads released together and waits for them (see <see cref="Join"/>).</summary>
    public static void Run(int threads, Action<int> body, TimeSpan? timeout = null)
    {
        using var race = new ThreadRace(threads, timeout);
        race.Start(i =>
        {
            race.Sync();
            body(i);
        });
        race.Sync();
        race.Join();
    }

    /// <summary>Starts the workers; worker <c>i</c> (0-based) runs <paramref name="body"/>(<c>i</c>).</summary>
    public void Start(Action<int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (_threads.Count != 0)
        {
            throw new InvalidOperationException("The race has started already.");
        }

        for (int i = 0; i < Threads; i++)
        {
            int index = i;
            var thread = new Thread(() => RunWorker(body, index)) { IsBackground = true, Name = $"race worker {index}" };
            _threads.Add(thread);
        }

        _threads.ForEach(t => t.Start());
    }

    /// <summary>
    /// Waits until every participant reached this point. Throws the race's failure (a worker's exception, or a timeout)
    /// when the race was aborted instead.
    /// </summary>
    public void Sync()
    {
        try
        {
            _barrier.SignalAndWait(_abort.Token);
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            ThrowFailure();
            throw;
        }
    }

    /// <summary>Waits for every worker to end (within the race's timeout) and fails the test with what any of them threw.</summary>
    public void Join()
    {
        foreach (Thread thread in _threads)
        {
            TimeSpan left = _timeout - TimeProvider.System.GetElapsedTime(_started);
            if (!thread.Join(left > TimeSpan.Zero ? left : TimeSpan.Zero))
            {
                _abort.Cancel();
                ThrowFailure();
                throw new XunitException($"{thread.Name} did not end within {_timeout.TotalSeconds} s: a racing thread is stuck.");
            }
        }

        if (!_failures.IsEmpty)
        {
            ThrowFailure();
        }
    }

    /// <summary>Cancels the race (waking any waiting worker) and releases its barrier.</summary>
    public void Dispose()
    {
        _abort.Cancel();
        foreach (Thread thread in _threads)
        {
            thread.Join(TimeSpan.FromSeconds(5));
        }

        _abort.Dispose();
        _timedOut.Dispose();
        _barrier.Dispose();
    }

    private void RunWorker(Action<int> body, int index)
    {
        try
        {
            body(index);
        }
        catch (Exception ex) when (ex is OperationCanceledException or RaceFailedException && _abort.IsCancellationRequested)
        {
            // Woken because the race was aborted (another worker failed, or the timeout): Sync/Join report why.
        }
#pragma warning disable CA1031 // every exception of a worker is the test's failure, reported by Sync/Join on the test's thread
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _failures.Enqueue(ex);
            _abort.Cancel();
        }
    }

    private void ThrowFailure()
    {
        if (!_failures.IsEmpty)
        {
            Exception[] failures = [.. _failures];
            throw new RaceFailedException(
                $"{failures.Length} racing thread(s) threw; the first: {failures[0].GetType().Name}: {failures[0].Message}",
                failures.Length == 1 ? failures[0] : new AggregateException(failures));
        }

        if (_timedOut.IsCancellationRequested)
        {
            throw new RaceFailedException($"The race did not finish within {_timeout.TotalSeconds} s: a racing thread is stuck.");
        }
    }

    /// <summary>How the race reports its failure on the test's thread (and what a woken worker ignores).</summary>
    private sealed class RaceFailedException(string message, Exception? innerException = null) : XunitException(message, innerException);
}
