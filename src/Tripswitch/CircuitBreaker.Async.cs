using System.Runtime.CompilerServices;
using Tripswitch.Controller;

namespace Tripswitch;

/// <summary>The asynchronous <c>ExecuteAsync</c> overloads: the same two-step primitive as the synchronous ones, awaited.</summary>
public sealed partial class CircuitBreaker
{
    /// <summary>Runs an asynchronous call through the circuit.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="action">The call to protect; it receives <paramref name="cancellationToken"/>.</param>
    /// <param name="cancellationToken">The caller's token. A cancellation it causes is not counted as a failure.</param>
    /// <returns>What <paramref name="action"/> returned.</returns>
    /// <exception cref="CircuitOpenException">The circuit rejected the call; <paramref name="action"/> did not run.</exception>
    // Async lambdas convert to both the ValueTask and the Task overloads; the priority makes them bind to ValueTask.
    [OverloadResolutionPriority(1)]
    public ValueTask<T> ExecuteAsync<T>(Func<CancellationToken, ValueTask<T>> action, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (!_machine.TryAcquireClosed(out CircuitPermit permit) && TryAcquireSlow(out permit) is { } rejected)
        {
            return Faulted(rejected);
        }

        ValueTask<T> pending;
        try
        {
            pending = action(cancellationToken);
        }
        catch (Exception ex)
        {
            return Threw(permit, ex, cancellationToken);
        }

        if (pending.IsCompletedSuccessfully)
        {
            // Completed synchronously: the caller reads the result (not read here, so a pooled source is consumed once).
            permit.RecordSuccess();
            return pending;
        }

        return Later(pending, permit, cancellationToken);

        // The paths other than a synchronous success are out of line, with their struct temporaries, so that the
        // synchronous path's frame stays small (every byte of it is zeroed on every call).
        [MethodImpl(MethodImplOptions.NoInlining)]
        static ValueTask<T> Faulted(Exception exception) => ValueTask.FromException<T>(exception);

        [MethodImpl(MethodImplOptions.NoInlining)]
        static ValueTask<T> Threw(in CircuitPermit permit, Exception exception, CancellationToken cancellationToken)
        {
            permit.RecordOutcome(exception, cancellationToken);
            return ValueTask.FromException<T>(exception);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        static ValueTask<T> Later(in ValueTask<T> pending, in CircuitPermit permit, CancellationToken cancellationToken)
            => AwaitAndRecord(pending, permit, cancellationToken);

        static async ValueTask<T> AwaitAndRecord(ValueTask<T> pending, CircuitPermit permit, CancellationToken cancellationToken)
        {
            T result;
            try
            {
                result = await pending.ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                permit.RecordOutcome(ex, cancellationToken);
                throw;
            }

            permit.RecordSuccess();
            return result;
        }
    }

    /// <summary>Runs an asynchronous call through the circuit.</summary>
    /// <param name="action">The call to protect; it receives <paramref name="cancellationToken"/>.</param>
    /// <param name="cancellationToken">The caller's token. A cancellation it causes is not counted as a failure.</param>
    /// <returns>A task that completes when the call has.</returns>
    /// <exception cref="CircuitOpenException">The circuit rejected the call; <paramref name="action"/> did not run.</exception>
    // Async lambdas convert to both the ValueTask and the Task overloads; the priority makes them bind to ValueTask.
    [OverloadResolutionPriority(1)]
    public ValueTask ExecuteAsync(Func<CancellationToken, ValueTask> action, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (!_machine.TryAcquireClosed(out CircuitPermit permit) && TryAcquireSlow(out permit) is { } rejected)
        {
            return Faulted(rejected);
        }

        ValueTask pending;
        try
        {
            pending = action(cancellationToken);
        }
        catch (Exception ex)
        {
            return Threw(permit, ex, cancellationToken);
        }

        if (pending.IsCompletedSuccessfully)
        {
            // Completed synchronously: the caller consumes it (not consumed here, so a pooled source is consumed once).
            permit.RecordSuccess();
            return pending;
        }

        return Later(pending, permit, cancellationToken);

        // Out of line, as in ExecuteAsync<T>: the synchronous path's frame stays small.
        [MethodImpl(MethodImplOptions.NoInlining)]
        static ValueTask Faulted(Exception exception) => ValueTask.FromException(exception);

        [MethodImpl(MethodImplOptions.NoInlining)]
        static ValueTask Threw(in CircuitPermit permit, Exception exception, CancellationToken cancellationToken)
        {
            permit.RecordOutcome(exception, cancellationToken);
            return ValueTask.FromException(exception);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        static ValueTask Later(in ValueTask pending, in CircuitPermit permit, CancellationToken cancellationToken)
            => AwaitAndRecord(pending, permit, cancellationToken);

        static async ValueTask AwaitAndRecord(ValueTask pending, CircuitPermit permit, CancellationToken cancellationToken)
        {
            try
            {
                await pending.ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                permit.RecordOutcome(ex, cancellationToken);
                throw;
            }

            permit.RecordSuccess();
        }
    }

    /// <summary>Runs a <see cref="Task{TResult}"/>-returning call through the circuit.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="action">The call to protect; it receives <paramref name="cancellationToken"/>.</param>
    /// <param name="cancellationToken">The caller's token. A cancellation it causes is not counted as a failure.</param>
    /// <returns>What <paramref name="action"/> returned.</returns>
    /// <exception cref="CircuitOpenException">The circuit rejected the call; <paramref name="action"/> did not run.</exception>
    public Task<T> ExecuteAsync<T>(Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(action);
        return ExecuteAsync(ct => new ValueTask<T>(action(ct)), cancellationToken).AsTask();
    }

    /// <summary>Runs a <see cref="Task"/>-returning call through the circuit.</summary>
    /// <param name="action">The call to protect; it receives <paramref name="cancellationToken"/>.</param>
    /// <param name="cancellationToken">The caller's token. A cancellation it causes is not counted as a failure.</param>
    /// <returns>A task that completes when the call has.</returns>
    /// <exception cref="CircuitOpenException">The circuit rejected the call; <paramref name="action"/> did not run.</exception>
    public Task ExecuteAsync(Func<CancellationToken, Task> action, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(action);
        return ExecuteAsync(ct => new ValueTask(action(ct)), cancellationToken).AsTask();
    }

    /// <summary>
    /// Runs an asynchronous call through the circuit, or <paramref name="fallback"/> when the circuit rejects it (and also
    /// when it fails with a handled failure, if <see cref="CircuitBreakerOptions.FallbackOnFailure"/> is set).
    /// </summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="action">The call to protect; it receives <paramref name="cancellationToken"/>.</param>
    /// <param name="fallback">Gets the reason (the <see cref="CircuitOpenException"/> or the failure) and the token. Its own exceptions reach the caller unchanged.</param>
    /// <param name="cancellationToken">The caller's token. A cancellation it causes is not counted as a failure and does not run the fallback.</param>
    /// <returns>What <paramref name="action"/> or <paramref name="fallback"/> returned.</returns>
    public async ValueTask<T> ExecuteAsync<T>(
        Func<CancellationToken, ValueTask<T>> action,
        Func<Exception, CancellationToken, ValueTask<T>> fallback,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentNullException.ThrowIfNull(fallback);
        if (!_machine.TryAcquire(out CircuitPermit permit, out CircuitRejection rejection))
        {
            return await fallback(CreateRejectedException(rejection), cancellationToken).ConfigureAwait(false);
        }

        Exception failure;
        try
        {
            T result = await action(cancellationToken).ConfigureAwait(false);
            permit.RecordSuccess();
            return result;
        }
        catch (Exception ex)
        {
            // Not an exception filter: a throwing ShouldHandle must surface, and exceptions in filters are swallowed.
            if (permit.RecordOutcome(ex, cancellationToken) != CallOutcome.Failure || !FallbackOnFailure)
            {
                throw;
            }

            failure = ex;
        }

        return await fallback(failure, cancellationToken).ConfigureAwait(false);
    }
}
