using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.ExceptionServices;
using StackExchange.Redis;

namespace Tripswitch.Redis.Tests.Infrastructure;

/// <summary>One script an instance sent to Redis.</summary>
internal sealed class ScriptCall
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _completedAt;
    private int _state; // 0 running, 1 completed, 2 faulted

    public ScriptCall(string script, RedisKey[] keys, RedisValue[] args, Func<Task<RedisResult>> proceed)
    {
        Script = script;
        Keys = [.. keys.Where((_, i) => i % 2 == 0).Select(static key => (string)key!)];
        Key = Keys.Count > 0 ? Keys[0] : string.Empty;
        Args = args;
        Proceed = proceed;
        StartedAt = TimeProvider.System.GetTimestamp();
    }

    /// <summary>Which script: Get (one circuit, or a batch), Report (a batch), Trip, Hint, Lease, Probe or Set.</summary>
    public string Script { get; }

    /// <summary>The (first) circuit's hash key.</summary>
    public string Key { get; }

    /// <summary>Every circuit's hash key (a batch carries many).</summary>
    public IReadOnlyList<string> Keys { get; }

    /// <summary>ARGV: channel, name, key expiry, then the script's own arguments.</summary>
    public RedisValue[] Args { get; }

    /// <summary>Sends the script to the real Redis (what an interceptor calls to let it through).</summary>
    public Func<Task<RedisResult>> Proceed { get; }

    public long StartedAt { get; }

    public long CompletedAt => Volatile.Read(ref _completedAt);

    public bool IsCompleted => Volatile.Read(ref _state) == 1;

    public bool IsFaulted => Volatile.Read(ref _state) == 2;

    /// <summary>
    /// Completes once Redis answered (or the call failed): the script has run on the server by then. What a test awaits
    /// instead of polling the store, so it never races the instance's own handling of the reply.
    /// </summary>
    public Task Done => _done.Task;

    public Exception? Error { get; private set; }

    /// <summary>The reply: {epoch, generation, state, remaining ms, extra, open attempt}, once completed.</summary>
    public RedisResult? Result { get; private set; }

    /// <summary>Whether Redis granted the lease this Lease script asked for.</summary>
    public bool Granted => IsCompleted && Result is { Length: 6 } result && (long)result[4] == 1;

    /// <summary>The script's own argument <paramref name="index"/> (0-based, after channel, name and expiry).</summary>
    public long Arg(int index) => (long)Args[3 + index];

    internal void Complete(RedisResult? result, Exception? error)
    {
        Result = result;
        Error = error;
        Volatile.Write(ref _completedAt, TimeProvider.System.GetTimestamp());
        Volatile.Write(ref _state, error is null ? 1 : 2);
        _done.TrySetResult();
    }
}

/// <summary>
/// Sees every script an instance runs (through <see cref="MonitoredRedis"/>), and can hold, fail or replace them:
/// how the tests count round trips, read the batches, and make the store slow or broken on purpose.
/// </summary>
internal sealed class ScriptMonitor
{
    private readonly ConcurrentQueue<ScriptCall> _calls = new();

    /// <summary>Returns the task to use instead of the real call, or <see langword="null"/> to let it through.</summary>
    public Func<ScriptCall, Task<RedisResult>?>? Intercept { get; set; }

    public IReadOnlyList<ScriptCall> Calls => [.. _calls];

    public IEnumerable<ScriptCall> Of(string script, string? key = null)
        => _calls.Where(call => call.Script == script && (key is null || call.Keys.Contains(key)));

    public int Count(string script, string? key = null) => Of(script, key).Count();

    public int Completed(string script, string? key = null) => Of(script, key).Count(static call => call.IsCompleted);

    public IReadOnlyList<ScriptCall> Faulted => [.. _calls.Where(static call => call.IsFaulted)];

    internal Task<RedisResult> Run(ScriptCall call)
    {
        _calls.Enqueue(call);
        Task<RedisResult> task = Intercept?.Invoke(call) ?? call.Proceed();
        return Track(call, task);
    }

    private static async Task<RedisResult> Track(ScriptCall call, Task<RedisResult> task)
    {
        try
        {
            RedisResult result = await task.ConfigureAwait(false);
            call.Complete(result, null);
            return result;
        }
        catch (Exception ex)
        {
            call.Complete(null, ex);
            throw;
        }
    }

    public static string NameOf(string script)
    {
        if (script == RedisScripts.Get || script == RedisScripts.GetMany)
        {
            return "Get";
        }

        if (script == RedisScripts.Report)
        {
            return "Report";
        }

        if (script == RedisScripts.Trip)
        {
            return "Trip";
        }

        if (script == RedisScripts.Hint)
        {
            return "Hint";
        }

        if (script == RedisScripts.Lease)
        {
            return "Lease";
        }

        if (script == RedisScripts.Probe)
        {
            return "Probe";
        }

        return script == RedisScripts.Set ? "Set" : "Other";
    }
}

/// <summary>Wraps a real connection so that the databases it hands out report their scripts to a <see cref="ScriptMonitor"/>.</summary>
public class MonitoredRedis : DispatchProxy
{
    private IConnectionMultiplexer _target = null!;
    private ScriptMonitor _monitor = null!;

    internal static IConnectionMultiplexer Wrap(IConnectionMultiplexer target, ScriptMonitor monitor)
    {
        IConnectionMultiplexer proxy = Create<IConnectionMultiplexer, MonitoredRedis>();
        var self = (MonitoredRedis)(object)proxy;
        self._target = target;
        self._monitor = monitor;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        object? result = Forward(_target, targetMethod!, args);
        return result is IDatabase database && targetMethod!.Name == nameof(IConnectionMultiplexer.GetDatabase)
            ? MonitoredDatabase.Wrap(database, _monitor)
            : result;
    }

    internal static object? Forward(object target, MethodInfo method, object?[]? args)
    {
        try
        {
            return method.Invoke(target, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(ex.InnerException);
            throw;
        }
    }
}

/// <summary>An <see cref="IDatabase"/> whose script evaluations go through a <see cref="ScriptMonitor"/>.</summary>
public class MonitoredDatabase : DispatchProxy
{
    private IDatabase _target = null!;
    private ScriptMonitor _monitor = null!;

    internal static IDatabase Wrap(IDatabase target, ScriptMonitor monitor)
    {
        IDatabase proxy = Create<IDatabase, MonitoredDatabase>();
        var self = (MonitoredDatabase)(object)proxy;
        self._target = target;
        self._monitor = monitor;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        MethodInfo method = targetMethod!;
        if (method.Name == nameof(IDatabase.ScriptEvaluateAsync) && args is [string script, RedisKey[] keys, RedisValue[] values, ..])
        {
            var call = new ScriptCall(
                ScriptMonitor.NameOf(script),
                keys,
                values,
                () => (Task<RedisResult>)MonitoredRedis.Forward(_target, method, args)!);
            return _monitor.Run(call);
        }

        return MonitoredRedis.Forward(_target, method, args);
    }
}
