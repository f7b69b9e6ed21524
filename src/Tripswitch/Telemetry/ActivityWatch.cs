using System.Diagnostics;

namespace Tripswitch;

/// <summary>
/// Whether any <see cref="Activity"/> has been current in this process since the first circuit was made: until one
/// has, <see cref="Activity.Current"/> is null on every flow and a rejection need not read it (a read of an
/// <see cref="AsyncLocal{T}"/>, which is a thread-local read: about a fifth of a lock-free rejection).
/// </summary>
/// <remarks>
/// It listens to <see cref="Activity.CurrentChanged"/> until the first change and then stops listening, so it costs an
/// application that traces nothing after that. It starts when the first circuit is made (and notes an activity current
/// on that flow then); an activity made current on another flow before that, which never changes afterwards, would
/// not be seen: activities come and go with requests, so in practice the first one after start-up sets it.
/// </remarks>
internal sealed class ActivityWatch
{
    private volatile bool _seen;

    /// <summary>Starts watching; already set when an activity is current on the calling flow.</summary>
    public ActivityWatch()
    {
        Activity.CurrentChanged += OnCurrentChanged;
        if (Activity.Current is not null)
        {
            Seen();
        }
    }

    /// <summary>The process's watch, started by the first circuit.</summary>
    public static ActivityWatch Process { get; } = new();

    /// <summary>Whether an activity has been current: when false, <see cref="Activity.Current"/> is null.</summary>
    public bool AnySeen => _seen;

    private void OnCurrentChanged(object? sender, ActivityChangedEventArgs e) => Seen();

    private void Seen()
    {
        _seen = true;
        Activity.CurrentChanged -= OnCurrentChanged;
    }
}
