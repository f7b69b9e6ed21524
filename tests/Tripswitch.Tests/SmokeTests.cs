using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Tripswitch.Tests;

public class SmokeTests
{
    [Fact]
    public async Task ExecuteAsync_AsyncLambdas_ResolveWithoutCasts()
    {
        var breaker = new CircuitBreaker(new CircuitBreakerOptions { TimeProvider = new FakeTimeProvider() });
        int a = await breaker.ExecuteAsync(async ct => { await Task.Yield(); return 1; }, TestContext.Current.CancellationToken);
        int b = await breaker.ExecuteAsync(ct => Task.FromResult(2), TestContext.Current.CancellationToken);
        int c = await breaker.ExecuteAsync(ct => ValueTask.FromResult(3), TestContext.Current.CancellationToken);
        await breaker.ExecuteAsync(async ct => await Task.Yield(), TestContext.Current.CancellationToken);
        Assert.Equal(6, a + b + c);
        Assert.Equal(4, breaker.GetSummary().Successful);
    }
}
