using System.Collections.Concurrent;

namespace Tripswitch.Testing;

/// <summary>
/// Records every <see cref="TaskScheduler.UnobservedTaskException"/> raised while it is subscribed: a faulted task that
/// nobody awaited. The event is raised by the finalizer of such a task, so <see cref="CollectAsync"/> forces full
/// collections and waits for pending finalizers before the test reads <see cref="Exceptions"/>. The event is
/// process-wide: use it in a test that runs alone (a collection with parallelization disabled).
/// </summary>
public sealed class UnobservedTaskExceptions : IDisposable
{
    private readonly ConcurrentQueue<Exception> _exceptions = new();

    private UnobservedTaskExceptions() => TaskScheduler.UnobservedTaskException += OnUnobserved;

    /// <summary>The exceptions recorded so far (each task's <see cref="AggregateException"/>).</summary>
    public IReadOnlyCollection<Exception> Exceptions => _exceptions;

    /// <summary>Subscribes; dispose to unsubscribe.</summary>
    /// <returns>The recorder.</returns>
    public static UnobservedTaskExceptions Watch() => new();

    /// <summary>
    /// Finalizes every unreachable faulted task now (two full collections around the finalizers, since a finalizer can
    /// release more garbage), so that their exceptions are recorded.
    /// </summary>
    /// <returns>A task that completes when the finalizers ran.</returns>
    public static Task CollectAsync() => Task.Run(static () =>
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        GC.WaitForPendingFinalizers();
    });

    /// <summary>Unsubscribes.</summary>
    public void Dispose() => TaskScheduler.UnobservedTaskException -= OnUnobserved;

    private void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e) => _exceptions.Enqueue(e.Exception);
}
