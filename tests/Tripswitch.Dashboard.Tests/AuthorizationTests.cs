using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tripswitch.Dashboard.Tests.Infrastructure;

namespace Tripswitch.Dashboard.Tests;

/// <summary>The returned group composes with ASP.NET Core authorization: <c>.RequireAuthorization()</c> protects every endpoint.</summary>
public class AuthorizationTests
{
    [Theory]
    [InlineData("tripswitch")]
    [InlineData("tripswitch/status")]
    [InlineData("tripswitch/events")]
    public async Task RequireAuthorization_NoCredentials_Returns401(string path)
    {
        await using DashboardServer server = await StartProtectedAsync();

        using HttpResponseMessage response = await server.Client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("tripswitch", "text/html")]
    [InlineData("tripswitch/status", "application/json")]
    [InlineData("tripswitch/events", "text/event-stream")]
    public async Task RequireAuthorization_WithCredentials_Serves(string path, string mediaType)
    {
        await using DashboardServer server = await StartProtectedAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue(TestAuthHandler.SchemeName, "ops");

        using HttpResponseMessage response = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task RequireAuthorization_Policy_Returns403ForAUserWithoutTheRole()
    {
        await using DashboardServer server = await StartProtectedAsync(policy: "ops-only");
        using var request = new HttpRequestMessage(HttpMethod.Get, "tripswitch/status");
        request.Headers.Authorization = new AuthenticationHeaderValue(TestAuthHandler.SchemeName, "guest");

        using HttpResponseMessage response = await server.Client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    private static Task<DashboardServer> StartProtectedAsync(string? policy = null) => DashboardServer.StartAsync(
        configure: b =>
        {
            b.Services.AddSingleton(new CircuitBreakerRegistry());
            b.Services.AddAuthentication(TestAuthHandler.SchemeName)
                .AddScheme<AuthenticationSchemeOptions, TestAuthHandler>(TestAuthHandler.SchemeName, configureOptions: null);
            b.Services.AddAuthorizationBuilder().AddPolicy("ops-only", p => p.RequireRole("ops"));
        },
        map: app =>
        {
            app.UseAuthentication();
            app.UseAuthorization();
            RouteGroupBuilder dashboard = app.MapTripswitchDashboard("/tripswitch");
            if (policy is null)
            {
                dashboard.RequireAuthorization();
            }
            else
            {
                dashboard.RequireAuthorization(policy);
            }
        });

    /// <summary>A trivial scheme: <c>Authorization: Test {role}</c> signs in a user with that role; no header, no user.</summary>
    private sealed class TestAuthHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "Test";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!AuthenticationHeaderValue.TryParse(Request.Headers.Authorization, out AuthenticationHeaderValue? header)
                || header.Scheme != SchemeName
                || string.IsNullOrEmpty(header.Parameter))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "tester"), new Claim(ClaimTypes.Role, header.Parameter)], SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }
    }
}
