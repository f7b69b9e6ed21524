#region package-dashboard
// packages: Tripswitch.Dashboard, Tripswitch.Hosting (an ASP.NET Core app)
#endregion

namespace Docs.Snippets.Packages;

internal static class Dashboard
{
    public static void Run(string[] args)
    {
        #region package-dashboard
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch"));

        var app = builder.Build();
        app.MapTripswitchDashboard("/tripswitch"); // /tripswitch, /tripswitch/status, /tripswitch/events
        app.Run();
        #endregion
    }
}
