using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Tripswitch.Gateway.Tests.Infrastructure;

/// <summary>Keeps every log line at every level (message, state values and exceptions), to prove what is never logged.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource Seen)> _waiters = [];

    public IReadOnlyCollection<string> Lines => _lines;

    public string AllText => string.Join('\n', _lines);

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    /// <summary>Completes when a line matching <paramref name="match"/> has been logged (at once if one already was).</summary>
    public Task WaitForAsync(Func<string, bool> match)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            _waiters.Add((match, seen));
        }

        if (_lines.Any(match))
        {
            seen.TrySetResult();
        }

        return seen.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
    }

    /// <summary>Completes when the gateway has reported the outcome of <paramref name="count"/> forwarded attempts through <paramref name="circuit"/>.</summary>
    public Task WaitForForwardedAsync(string circuit, int count = 1)
        => WaitForAsync(_ => _lines.Count(l => l.Contains("[1] ", StringComparison.Ordinal) && l.Contains($"Circuit={circuit},", StringComparison.Ordinal)) >= count);

    private void Add(string line)
    {
        _lines.Enqueue(line);
        lock (_waiters)
        {
            foreach ((Func<string, bool> match, TaskCompletionSource seen) in _waiters)
            {
                if (match(line))
                {
                    seen.TrySetResult();
                }
            }
        }
    }

    public void Dispose()
    {
    }

    private sealed class Logger(string category, CapturingLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            owner.Add($"{category} scope: {state}");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            owner.Add($"{logLevel} {category}[{eventId.Id}] {formatter(state, exception)} {{{values}}} {exception}");
        }
    }
}
