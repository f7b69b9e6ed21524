#region readme-dashboard
using Microsoft.AspNetCore.Authentication.Cookies;
#endregion

namespace Docs.Snippets.Wiring;

internal static class Dashboard
{
    public static void Run(string[] args)
    {
        #region readme-dashboard
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddTripswitch(builder.Configuration.GetSection("Tripswitch")); // the registry your clients use; the dashboard shows it
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(); // or your app's own scheme
        builder.Services.AddAuthorizationBuilder().AddPolicy("ops", p => p.RequireRole("ops"));

        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapTripswitchDashboard("/tripswitch").RequireAuthorization("ops");
        app.Run();
        #endregion
    }
}
