using Tripswitch.Dashboard.Internal;

namespace Tripswitch.Dashboard.Tests.Internal;

public class TransitionQueueTests
{
    [Fact]
    public void OnStateChanged_Full_DropsOldestAndCountsThem()
    {
        var queue = new TransitionQueue(capacity: 3);

        for (int i = 0; i < 5; i++)
        {
            queue.OnStateChanged(null, Transition(i));
        }

        Assert.Equal(2, queue.TakeDropped());
        Assert.Equal(0, queue.TakeDropped()); // taken once
        Assert.Equal(["c2", "c3", "c4"], Drain(queue));
    }

    [Fact]
    public void OnStateChanged_BelowCapacity_KeepsEveryTransitionInOrder()
    {
        var queue = new TransitionQueue(capacity: 3);

        queue.OnStateChanged(null, Transition(0));
        queue.OnStateChanged(null, Transition(1));

        Assert.Equal(0, queue.TakeDropped());
        Assert.Equal(["c0", "c1"], Drain(queue));
    }

    [Fact]
    public async Task WaitToReadAsync_TransitionArrives_Completes()
    {
        var queue = new TransitionQueue(capacity: 1);
        ValueTask<bool> waiting = queue.WaitToReadAsync(TestContext.Current.CancellationToken);
        Assert.False(waiting.IsCompleted);

        queue.OnStateChanged(null, Transition(0));

        Assert.True(await waiting);
    }

    private static CircuitTransition Transition(int i)
        => new($"c{i}", CircuitState.Closed, CircuitState.Open, DateTimeOffset.UnixEpoch.AddSeconds(i), Cause: null);

    private static List<string> Drain(TransitionQueue queue)
    {
        var names = new List<string>();
        while (queue.TryDequeue(out CircuitTransition transition))
        {
            names.Add(transition.CircuitName);
        }

        return names;
    }
}
