using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;

namespace Tripswitch.Benchmarks;

/// <summary>
/// <c>--smoke</c>: runs every benchmark (every parameter combination) a few times in this process, with its
/// [GlobalSetup]/[GlobalCleanup] (whose checks prove each row measures the path it claims), and reports a rough
/// allocation per operation. A fast validation of the whole suite; it measures no time. BenchmarkDotNet's own runs,
/// <c>--job Dry</c> included, remain the authority for allocations (this process runs partly unoptimised code).
/// </summary>
internal static class SmokeRunner
{
    private const int Invocations = 64;

    public static int Run(Assembly assembly, string? filter)
    {
        int failures = 0, rows = 0;
        IEnumerable<Type> types = assembly.GetTypes()
            .Where(t => t.IsPublic && !t.IsAbstract && t.GetMethods().Any(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null))
            .OrderBy(t => t.Name, StringComparer.Ordinal);

        foreach (Type type in types)
        {
            MethodInfo[] benchmarks = type.GetMethods().Where(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null).ToArray();
            foreach (Dictionary<PropertyInfo, object?> parameters in ParameterCombinations(type))
            {
                foreach (MethodInfo benchmark in benchmarks)
                {
                    string name = $"{type.Name}.{benchmark.Name}" + string.Concat(parameters.Select(p => $" {p.Key.Name}={p.Value}"));
                    if (filter is not null && !name.Contains(filter, StringComparison.OrdinalIgnoreCase))
                    {
                        continue;
                    }

                    rows++;
                    try
                    {
                        double bytesPerOp = RunOne(type, benchmark, parameters);
                        Console.WriteLine($"ok    {name}  (~{bytesPerOp:0.#} B/op)");
                    }
                    catch (Exception ex) when (ex is TargetInvocationException or InvalidOperationException or AggregateException)
                    {
                        failures++;
                        Console.WriteLine($"FAIL  {name}: {(ex as TargetInvocationException)?.InnerException ?? ex}");
                    }
                }
            }
        }

        Console.WriteLine($"Smoke: {rows - failures} passed, {failures} failed");
        return failures == 0 && rows > 0 ? 0 : 1;
    }

    private static double RunOne(Type type, MethodInfo benchmark, Dictionary<PropertyInfo, object?> parameters)
    {
        object instance = Activator.CreateInstance(type)!;
        foreach ((PropertyInfo property, object? value) in parameters)
        {
            property.SetValue(instance, value);
        }

        Invoke<GlobalSetupAttribute>(instance, benchmark);
        Invoke<IterationSetupAttribute>(instance, benchmark);
        try
        {
            int opsPerInvoke = benchmark.GetCustomAttribute<BenchmarkAttribute>()!.OperationsPerInvoke;
            int invocations = opsPerInvoke > 1 ? 2 : Invocations;
            Action call = Compile(instance, benchmark);
            call(); // first call outside the allocation count (static initialisation, lazy setup)
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < invocations; i++)
            {
                call();
            }

            long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            return allocated / (double)invocations / opsPerInvoke;
        }
        finally
        {
            Invoke<IterationCleanupAttribute>(instance, benchmark);
            Invoke<GlobalCleanupAttribute>(instance, benchmark);
        }
    }

    /// <summary>
    /// A call of <paramref name="benchmark"/> on <paramref name="instance"/> without reflection's own allocations; an
    /// awaitable result is awaited (<c>GetAwaiter().GetResult()</c>), so a faulted one throws here.
    /// </summary>
    private static Action Compile(object instance, MethodInfo benchmark)
    {
        Expression call = Expression.Call(Expression.Constant(instance), benchmark);
        if (benchmark.ReturnType.GetMethod(nameof(Task.GetAwaiter), Type.EmptyTypes) is { } getAwaiter)
        {
            Expression awaiter = Expression.Call(call, getAwaiter);
            call = Expression.Call(awaiter, awaiter.Type.GetMethod(nameof(TaskAwaiter.GetResult), Type.EmptyTypes)!);
        }

        return Expression.Lambda<Action>(call).Compile();
    }

    /// <summary>Runs the methods with attribute <typeparamref name="T"/> that apply to <paramref name="benchmark"/>.</summary>
    private static void Invoke<T>(object instance, MethodInfo benchmark)
        where T : TargetedAttribute
    {
        foreach (MethodInfo method in instance.GetType().GetMethods())
        {
            T? attribute = method.GetCustomAttribute<T>();
            if (attribute is not null && (attribute.Targets is not { Length: > 0 } targets || targets.Contains(benchmark.Name)))
            {
                method.Invoke(instance, null);
            }
        }
    }

    private static IEnumerable<Dictionary<PropertyInfo, object?>> ParameterCombinations(Type type)
    {
        IEnumerable<Dictionary<PropertyInfo, object?>> combinations = [[]];
        foreach (PropertyInfo property in type.GetProperties())
        {
            if (property.GetCustomAttribute<ParamsAttribute>() is { } values)
            {
                combinations = combinations
                    .SelectMany(c => values.Values.Select(v => new Dictionary<PropertyInfo, object?>(c) { [property] = v }))
                    .ToList();
            }
        }

        return combinations;
    }
}
