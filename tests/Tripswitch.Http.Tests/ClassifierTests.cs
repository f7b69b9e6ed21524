using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Tripswitch.Http.Tests.Infrastructure;
using Xunit;

namespace Tripswitch.Http.Tests;

/// <summary>The handler classifies a transport exception with the permit's one classifier: a throwing ShouldHandle surfaces as in Execute.</summary>
public sealed class ClassifierTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task ShouldHandleThrows_TheRequestSurfacesThePredicatesExceptionAndCountsAFailure()
    {
        (Socket bound, Uri address) = Loopback.RefusingPort();
        using Socket refusing = bound;
        using var client = new BreakerClient(_time, o => o.ShouldHandle = _ => throw new PredicateBugException());

        await Assert.ThrowsAsync<PredicateBugException>(() => client.Http.GetAsync(address, TestContext.Current.CancellationToken));

        CircuitBreaker circuit = client.Circuit(CircuitBreakerHandlerOptions.AuthorityKey(address));
        Assert.Equal(1, circuit.GetSummary().Failed);
        Assert.Equal(CircuitState.Open, circuit.State);
    }

    [Fact]
    public void ShouldHandleThrows_SyncSendSurfacesItToo()
    {
        (Socket bound, Uri address) = Loopback.RefusingPort();
        using Socket refusing = bound;
        using var client = new BreakerClient(_time, o => o.ShouldHandle = _ => throw new PredicateBugException());
        using var request = new HttpRequestMessage(HttpMethod.Get, address);

        Assert.Throws<PredicateBugException>(() => client.Http.Send(request, TestContext.Current.CancellationToken));

        Assert.Equal(1, client.Circuit(CircuitBreakerHandlerOptions.AuthorityKey(address)).GetSummary().Failed);
    }

    private sealed class PredicateBugException : Exception
    {
        public PredicateBugException()
            : base("ShouldHandle has a bug")
        {
        }
    }
}
