using System.Collections.Concurrent;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;

namespace Tripswitch.Benchmarks;

/// <summary>
/// <c>CircuitBreakerRegistry.Get</c> for a key that already has a breaker, in a registry holding
/// <see cref="Keys"/> breakers. Target: &lt;= 20 ns, 0 B (absolute; the other rows are for orientation).
/// </summary>
/// <remarks>
/// The looked-up key is an equal but distinct string instance from the one the breaker was created with (as when a key
/// is built per request, e.g. <c>$"{provider}/{model}"</c>), so the lookup hashes and compares the whole key.
/// </remarks>
[MemoryDiagnoser]
public class RegistryBenchmarks
{
    private const string Key = "openai/gpt-4.1";

    private Func<int> _callback = null!;
    private string _key = null!;
    private CircuitBreakerRegistry _registry = null!;
    private ConcurrentDictionary<string, object> _dictionary = null!;
    private ResiliencePipelineRegistry<string> _polly = null!;

    /// <summary>How many breakers the registry holds.</summary>
    [Params(1_000)]
    public int Keys { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _callback = Callbacks.Sync;
        _key = new string(Key.AsSpan());
        _registry = new CircuitBreakerRegistry();
        _dictionary = new ConcurrentDictionary<string, object>(StringComparer.Ordinal);
        _polly = new ResiliencePipelineRegistry<string>();
        _polly.TryAddBuilder(Key, static (builder, _) => builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions()));

        for (int i = 0; i < Keys - 1; i++)
        {
            string other = string.Create(CultureInfo.InvariantCulture, $"provider{i % 7}/model-{i}");
            _dictionary[other] = _registry.Get(other);
            _polly.TryAddBuilder(other, static (builder, _) => builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions()));
            _ = _polly.GetPipeline(other);
        }

        _dictionary[Key] = _registry.Get(Key);
        _ = _polly.GetPipeline(Key);

        Callbacks.Require(!ReferenceEquals(_key, Key), "the looked-up key is a distinct string instance");
        Callbacks.Require(_registry.Count == Keys && ReferenceEquals(_registry.Get(_key), _dictionary[Key]), "the registry holds the breaker for the key");
    }

    [GlobalCleanup]
    public void Cleanup() => _polly.Dispose();

    [Benchmark(Baseline = true)]
    public int DirectCall() => _callback();

    /// <summary>The floor: the same lookup in a plain <see cref="ConcurrentDictionary{TKey, TValue}"/> with the ordinal comparer.</summary>
    [Benchmark]
    public object? ConcurrentDictionary_TryGetValue() => _dictionary.TryGetValue(_key, out object? value) ? value : null;

    /// <summary>Tripswitch: <c>CircuitBreakerRegistry.Get</c> for an existing key (target &lt;= 20 ns, 0 B).</summary>
    [Benchmark]
    [ComparedTo(nameof(Polly_Registry_GetPipeline))]
    public CircuitBreaker Tripswitch_Registry_Get() => _registry.Get(_key);

    /// <summary>Polly's <see cref="ResiliencePipelineRegistry{TKey}"/>, for orientation.</summary>
    [Benchmark]
    public ResiliencePipeline Polly_Registry_GetPipeline() => _polly.GetPipeline(_key);
}
