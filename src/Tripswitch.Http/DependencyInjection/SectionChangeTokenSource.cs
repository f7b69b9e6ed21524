using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Tripswitch.Http;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Tells <see cref="IOptionsMonitor{TOptions}"/> that one client's handler options changed when their configuration section reloads.</summary>
internal sealed class SectionChangeTokenSource(string name, IConfiguration section) : IOptionsChangeTokenSource<CircuitBreakerHandlerOptions>
{
    public string Name { get; } = name;

    public IChangeToken GetChangeToken() => section.GetReloadToken();
}
