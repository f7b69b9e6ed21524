using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Tripswitch.Hosting.Tests;

/// <summary>One log record: its category, level, event, formatted message and structured values (as text).</summary>
public sealed record LogRecord(string Category, LogLevel Level, EventId EventId, string Message, IReadOnlyList<KeyValuePair<string, string?>> State, Exception? Exception)
{
    /// <summary>Everything the record would write anywhere, to search for secrets.</summary>
    public string AllText => $"{Category} {Message} {string.Join(" ", State.Select(p => $"{p.Key}={p.Value}"))} {Exception}";
}

/// <summary>Collects every log record and lets a test await one that matches (no sleeping).</summary>
public sealed class TestLoggerProvider : ILoggerProvider
{
    private readonly Lock _lock = new();
    private readonly List<LogRecord> _records = [];
    private readonly List<(Func<LogRecord, bool> Match, TaskCompletionSource<LogRecord> Done)> _waiters = [];

    public IReadOnlyList<LogRecord> Records
    {
        get
        {
            lock (_lock)
            {
                return [.. _records];
            }
        }
    }

    public IReadOnlyList<LogRecord> TripswitchRecords => [.. Records.Where(r => r.Category == "Tripswitch")];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <summary>Completes with the first record (already logged or to come) that matches.</summary>
    public Task<LogRecord> WaitForAsync(Func<LogRecord, bool> match, TimeSpan timeout)
    {
        var done = new TaskCompletionSource<LogRecord>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            LogRecord? existing = _records.FirstOrDefault(match);
            if (existing is not null)
            {
                return Task.FromResult(existing);
            }

            _waiters.Add((match, done));
        }

        return done.Task.WaitAsync(timeout);
    }

    public void Dispose()
    {
    }

    private void Add(LogRecord record)
    {
        lock (_lock)
        {
            _records.Add(record);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(record))
                {
                    _waiters[i].Done.TrySetResult(record);
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    private sealed class Logger(TestLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = new List<KeyValuePair<string, string?>>();
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                values.AddRange(pairs.Select(p => new KeyValuePair<string, string?>(p.Key, Convert.ToString(p.Value, System.Globalization.CultureInfo.InvariantCulture))));
            }

            provider.Add(new LogRecord(category, logLevel, eventId, formatter(state, exception), values, exception));
        }
    }
}
