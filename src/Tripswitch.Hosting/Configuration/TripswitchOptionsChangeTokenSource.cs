using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Tripswitch.Hosting.Configuration;

/// <summary>
/// Tells <see cref="IOptionsMonitor{TOptions}"/> that <see cref="TripswitchOptions"/> changed, but only after a reload was
/// validated and applied to the registry. The monitor is deliberately not wired to the configuration directly: it
/// would rebuild (and throw on) invalid options inside the configuration system's reload callback.
/// </summary>
internal sealed class TripswitchOptionsChangeTokenSource : IOptionsChangeTokenSource<TripswitchOptions>, IDisposable
{
    private CancellationTokenSource _source = new();

    /// <inheritdoc/>
    public string Name => Options.DefaultName;

    /// <inheritdoc/>
    public IChangeToken GetChangeToken() => new CancellationChangeToken(Volatile.Read(ref _source).Token);

    /// <summary>Fires the current token (its listeners run on this thread) and arms a new one.</summary>
    public void Signal()
    {
        using CancellationTokenSource fired = Interlocked.Exchange(ref _source, new CancellationTokenSource());
        fired.Cancel();
    }

    /// <inheritdoc/>
    public void Dispose() => _source.Dispose();
}
