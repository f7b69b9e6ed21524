using Microsoft.AspNetCore.Builder;
using Tripswitch.Gateway;

// The Tripswitch gateway: see README.md ("Gateway") for configuration. With no Gateway configuration it starts on an
// embedded offline fake LLM and prints a curl line that works at once.
await using WebApplication app = await GatewayApp.BuildAsync(args).ConfigureAwait(false);
await app.StartAsync().ConfigureAwait(false);
GatewayApp.PrintBanner(app, Console.Out);
await app.WaitForShutdownAsync().ConfigureAwait(false);
