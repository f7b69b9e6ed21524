using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Tripswitch.Gateway.Tests.Soak;

/// <summary>
/// Counts a gateway's warnings and errors by category and event, and keeps the first few errors in full. Bounded
/// whatever the soak's length, so it does not itself grow the memory the soak measures.
/// </summary>
internal sealed class SoakLog : ILoggerProvider
{
    private const int KeptErrors = 20;

    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _errors = new();
    private int _errorCount;

    /// <summary>Entries by <c>level category[event]</c>.</summary>
    public IReadOnlyDictionary<string, int> Counts => _counts;

    /// <summary>The first errors, with their exceptions.</summary>
    public IReadOnlyCollection<string> Errors => _errors;

    /// <summary>Errors (and critical entries) logged by ASP.NET Core's hosting or Kestrel: an exception no code of the gateway handled.</summary>
    public int Unhandled => _counts.Where(static c => c.Key.StartsWith("Error Microsoft.AspNetCore", StringComparison.Ordinal) || c.Key.StartsWith("Critical", StringComparison.Ordinal)).Sum(static c => c.Value);

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    public void Dispose()
    {
    }

    private void Add(string category, LogLevel level, EventId id, string message, Exception? exception)
    {
        _counts.AddOrUpdate($"{level} {category}[{id.Name ?? id.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)}]", 1, static (_, n) => n + 1);
        if (level >= LogLevel.Error && Interlocked.Increment(ref _errorCount) <= KeptErrors)
        {
            _errors.Enqueue($"{level} {category}: {message} {exception}");
        }
    }

    private sealed class Logger(string category, SoakLog log) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                log.Add(category, logLevel, eventId, formatter(state, exception), exception);
            }
        }
    }
}
