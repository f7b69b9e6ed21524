using System.Text;
using Tripswitch;
using Tripswitch.FakeLlm;
using Tripswitch.Samples.OpenAI;

// The seed's OpenAI example, run offline: FakeLlm (an OpenAI-compatible server on 127.0.0.1) stands in for the API,
// and the official OpenAI .NET client calls it through a Tripswitch circuit. No network, no API key.
//
// ProtectedChat.cs is the seed's get_completion: the circuit is a CircuitBreakerHandler in the HttpClient the OpenAI
// client sends through, the fallback catches CircuitOpenException (which the client lets through unwrapped), and the
// client's own retries are off (RetryPolicy = new ClientRetryPolicy(maxRetries: 0)) so that each call is exactly one
// request the circuit sees: left on, the client would resend failed requests and wait out a 429 itself, while the
// circuit should decide when to try again. SeedWalkthrough.cs is the run you see.
Console.OutputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    interrupted.Cancel();
};

try
{
    await using FakeLlmServer server = await FakeLlmServer.StartAsync(cancellationToken: interrupted.Token);
    var walkthrough = new SeedWalkthrough(server, Console.Out, TimeProvider.System);
    CircuitSummary summary = await walkthrough.RunAsync(interrupted.Token);
    return summary.State == CircuitState.Closed ? 0 : 1;
}
catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
{
    await Console.Error.WriteLineAsync("interrupted.");
    return 130;
}
