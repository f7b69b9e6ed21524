using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace Tripswitch.Benchmarks;

/// <summary>
/// Where a cold circuit's bytes go (<c>--memory-breakdown</c>): the objects one registry circuit keeps alive, by type,
/// with their exact sizes, after one call.
/// </summary>
/// <remarks>
/// It walks the object graph by reflection from a second circuit of a registry and leaves out what the first circuit
/// also reaches (the time provider, the meter, the registry's shared configuration), the registry itself, and the key
/// string (the caller's),
/// so what remains is what each additional circuit costs. Each object's size is measured, not computed: the bytes this
/// thread allocates for an uninitialized instance of its type (or an array of its length). The registry's dictionary
/// node is listed; its bucket array (about 8 B per circuit) and the telemetry's weak-handle list are not.
/// </remarks>
internal static class MemoryBreakdown
{
    private static readonly Dictionary<(Type, int), long> s_sizes = [];
    private static readonly object s_target = new();

    public static int Run()
    {
        var registry = new CircuitBreakerRegistry();
        Func<int> callback = Callbacks.Sync;
        string first = string.Create(CultureInfo.InvariantCulture, $"tenant-{1}/endpoint");
        string second = string.Create(CultureInfo.InvariantCulture, $"tenant-{2}/endpoint");
        registry.Get(first).Execute(callback);
        registry.Get(second).Execute(callback);

        var shared = new HashSet<object>(ReferenceEqualityComparer.Instance) { second, registry };
        Walk(Node(registry, first), shared, _ => { });
        var rows = new Dictionary<string, (int Count, long Bytes)>(StringComparer.Ordinal);
        Walk(Node(registry, second), shared, o =>
        {
            string name = Describe(o);
            (int count, long bytes) = rows.GetValueOrDefault(name);
            rows[name] = (count + 1, bytes + SizeOf(o));
        });

        Console.WriteLine("| object | count | bytes |");
        Console.WriteLine("| --- | ---: | ---: |");
        foreach ((string name, (int count, long bytes)) in rows.OrderByDescending(r => r.Value.Bytes))
        {
            Console.WriteLine($"| {name} | {count} | {bytes} |");
        }

        Console.WriteLine($"| **total** | {rows.Values.Sum(r => r.Count)} | **{rows.Values.Sum(r => r.Bytes)}** |");
        return 0;
    }

    /// <summary>The registry's dictionary node of <paramref name="key"/> (it holds the key, the entry and the breaker).</summary>
    private static object Node(CircuitBreakerRegistry registry, string key)
    {
        object entries = Field(registry, "_entries")!;
        object tables = Field(entries, "_tables")!;
        foreach (object? bucket in (Array)Field(tables, "_buckets")!)
        {
            for (object? node = bucket is null ? null : Field(bucket, "_node"); node is not null; node = Field(node, "_next"))
            {
                if (ReferenceEquals(Field(node, "_key"), key))
                {
                    return node;
                }
            }
        }

        throw new InvalidOperationException($"No node for {key}.");
    }

    private static void Walk(object root, HashSet<object> seen, Action<object> visit)
    {
        var pending = new Stack<object>();
        pending.Push(root);
        while (pending.TryPop(out object? o))
        {
            if (!seen.Add(o) || o is Type or Assembly or MemberInfo or Delegate { Target: null })
            {
                continue;
            }

            visit(o);
            foreach (object child in References(o))
            {
                pending.Push(child);
            }
        }
    }

    private static IEnumerable<object> References(object o)
    {
        if (o is Array array)
        {
            if (!array.GetType().GetElementType()!.IsPrimitive)
            {
                foreach (object? item in array)
                {
                    foreach (object child in item is null ? [] : Inner(item))
                    {
                        yield return child;
                    }
                }
            }

            yield break;
        }

        foreach (object child in Fields(o))
        {
            yield return child;
        }
    }

    /// <summary>An array element: the object itself, or for a struct, the objects its fields reference.</summary>
    private static IEnumerable<object> Inner(object item) => item.GetType().IsValueType ? Fields(item) : [item];

    private static IEnumerable<object> Fields(object o)
    {
        for (Type? type = o.GetType(); type is not null; type = type.BaseType)
        {
            foreach (FieldInfo field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (field.FieldType.IsPrimitive || field.FieldType.IsPointer || field.FieldType == typeof(IntPtr))
                {
                    continue;
                }

                if (field.GetValue(o) is { } value)
                {
                    foreach (object child in Inner(value))
                    {
                        yield return child;
                    }
                }
            }
        }
    }

    private static object? Field(object o, string name)
    {
        for (Type? type = o.GetType(); type is not null; type = type.BaseType)
        {
            if (type.GetField(name, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic) is { } field)
            {
                return field.GetValue(o);
            }
        }

        throw new InvalidOperationException($"{o.GetType()} has no field {name}.");
    }

    private static string Describe(object o)
    {
        string name = o.GetType().Name;
        if (o is Delegate d)
        {
            name += $" → {d.Method.DeclaringType?.Name}.{d.Method.Name}";
        }

        return o is Array a ? $"{name} (length {a.Length})" : name;
    }

    private static long SizeOf(object o)
    {
        int length = o switch { Array a => a.Length, string s => s.Length, _ => -1 };
        (Type, int) key = (o.GetType(), length);
        if (!s_sizes.TryGetValue(key, out long size))
        {
            // Twice: the first allocation of a type may also allocate the runtime's caches for it.
            for (int i = 0; i < 2; i++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                object made = o switch
                {
                    Array a => Array.CreateInstance(a.GetType().GetElementType()!, a.Length),
                    string s => new string(' ', s.Length),
                    Delegate => (Func<int>)s_target.GetHashCode, // every delegate has the same fields
                    _ => RuntimeHelpers.GetUninitializedObject(o.GetType()),
                };
                size = GC.GetAllocatedBytesForCurrentThread() - before;
                GC.KeepAlive(made);
            }

            s_sizes[key] = size;
        }

        return size;
    }
}
