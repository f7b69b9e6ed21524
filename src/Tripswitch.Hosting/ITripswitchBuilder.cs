using Microsoft.Extensions.DependencyInjection;

namespace Tripswitch.Hosting;

/// <summary>
/// What <c>services.AddTripswitch(...)</c> returns: configure Tripswitch further (<c>.Configure(...)</c>,
/// <c>.Bind(...)</c>, <c>.ConfigureCircuit(...)</c>), and the hook other Tripswitch packages extend (for example a
/// shared-state store).
/// </summary>
public interface ITripswitchBuilder
{
    /// <summary>The service collection Tripswitch is registered in.</summary>
    IServiceCollection Services { get; }
}
