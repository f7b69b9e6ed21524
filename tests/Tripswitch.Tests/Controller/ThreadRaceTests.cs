using Xunit;
using Xunit.Sdk;

namespace Tripswitch.Tests.Controller;

/// <summary>
/// The race helper <see cref="ConcurrencyTests"/> stands on: a racing thread that throws fails the test with its
/// exception, and a stuck one fails it after the timeout, instead of hanging the run.
/// </summary>
public class ThreadRaceTests
{
    [Fact]
    public void Sync_AWorkerThrowsWhileTheOthersWait_TheTestThreadGetsItsException()
    {
        using var race = new ThreadRace(4);
        race.Start(i =>
        {
            if (i == 2)
            {
                throw new TestFailureException("worker 2 failed");
            }

            race.Sync(); // the other workers wait here for a round that can never be complete
        });

        XunitException failure = Assert.ThrowsAny<XunitException>(race.Sync);
        Assert.Equal("worker 2 failed", Assert.IsType<TestFailureException>(failure.InnerException).Message);
        XunitException joined = Assert.ThrowsAny<XunitException>(race.Join); // every worker ended: nobody is left waiting
        Assert.IsType<TestFailureException>(joined.InnerException);
    }

    [Fact]
    public void Run_AWorkerThrowsAfterTheStart_FailsWithItsException()
    {
        XunitException failure = Assert.ThrowsAny<XunitException>(() => ThreadRace.Run(3, i =>
        {
            if (i == 0)
            {
                throw new TestFailureException("worker 0 failed");
            }
        }));

        Assert.Contains("worker 0 failed", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Join_AWorkerNeverEnds_FailsAfterTheTimeout()
    {
        using var never = new ManualResetEventSlim();
        using var race = new ThreadRace(1, timeout: TimeSpan.FromMilliseconds(200));
        race.Start(_ => never.Wait(TestContext.Current.CancellationToken)); // ignores the race's token: stuck

        XunitException failure = Assert.ThrowsAny<XunitException>(race.Join);
        Assert.Contains("stuck", failure.Message, StringComparison.Ordinal);
        never.Set();
    }

    [Fact]
    public void Sync_AWorkerWaitsOnTheRaceToken_TheTimeoutWakesItAndFailsTheTest()
    {
        using var race = new ThreadRace(2, timeout: TimeSpan.FromMilliseconds(200));
        race.Start(i =>
        {
            if (i == 0)
            {
                race.Token.WaitHandle.WaitOne(); // stuck until the race is aborted
                race.Token.ThrowIfCancellationRequested();
            }

            race.Sync();
        });

        XunitException failure = Assert.ThrowsAny<XunitException>(race.Sync);
        Assert.Contains("did not finish within", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_EveryWorkerSucceeds_EachRanOnceOnItsOwnThread()
    {
        int[] ran = new int[8];
        int[] threadIds = new int[8];
        ThreadRace.Run(8, i =>
        {
            Interlocked.Increment(ref ran[i]);
            threadIds[i] = Environment.CurrentManagedThreadId;
        });

        Assert.All(ran, count => Assert.Equal(1, count));
        Assert.Equal(8, threadIds.Distinct().Count());
    }
}
