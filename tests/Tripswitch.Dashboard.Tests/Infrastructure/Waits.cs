namespace Tripswitch.Dashboard.Tests.Infrastructure;

/// <summary>Bounds for waiting on a condition (never a sleep): generous, since the machine may be busy.</summary>
internal static class Waits
{
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(15);

    /// <summary>A token cancelled after <see cref="Generous"/> or when the test is cancelled.</summary>
    public static CancellationTokenSource Timeout()
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Generous);
        return cts;
    }
}
