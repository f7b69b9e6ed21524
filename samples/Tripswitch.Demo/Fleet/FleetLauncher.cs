using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace Tripswitch.Demo;

/// <summary>
/// The first instance's side of a fleet: starts instances 2..N as child processes of this program (same host, same
/// executable, hidden <c>--fleet-member</c>), waits until each has connected to Redis, tells them all when the
/// scenario starts, follows what they print, and collects their results.
/// </summary>
internal sealed class FleetLauncher : IAsyncDisposable
{
    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(60);

    private readonly List<Member> _members = [];

    private FleetLauncher()
    {
    }

    public IReadOnlyList<FleetMemberStatus> Members => [.. _members.Select(static m => m.Status)];

    /// <summary>Starts the members and waits until every one is ready (connected to Redis, FakeLlm running).</summary>
    /// <exception cref="InvalidOperationException">A member exited or did not get ready in time; the message has its error output.</exception>
    public static async Task<FleetLauncher> StartAsync(DemoOptions options, string keyPrefix, IFleetObserver observer, CancellationToken cancellationToken)
    {
        var launcher = new FleetLauncher();
        try
        {
            for (int instance = 2; instance <= options.Instances; instance++)
            {
                launcher._members.Add(Member.Start(SelfStartInfo(options, keyPrefix, instance), instance, observer));
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(s_readyTimeout);
            foreach (Member member in launcher._members)
            {
                await member.WaitReadyAsync(timeout.Token);
            }

            return launcher;
        }
        catch
        {
            await launcher.DisposeAsync();
            throw;
        }
    }

    /// <summary>Tells every member that the scenario starts now, with the origin of the relative times.</summary>
    public async Task StartScenarioAsync(DateTimeOffset startedAt)
    {
        string line = FleetProtocol.Start + " " + startedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        foreach (Member member in _members)
        {
            await member.SendAsync(line);
        }
    }

    /// <summary>Waits for the members to finish (their scenario ends with the first instance's), killing any that don't.</summary>
    public async Task FinishAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        foreach (Member member in _members)
        {
            await member.WaitExitAsync(cts.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (Member member in _members)
        {
            await member.DisposeAsync();
        }
    }

    /// <summary>This program again: the same host (the apphost, or <c>dotnet</c> with this assembly) and options for member <paramref name="instance"/>.</summary>
    private static ProcessStartInfo SelfStartInfo(DemoOptions options, string keyPrefix, int instance)
    {
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("The path of this process is unknown.");
        var start = new ProcessStartInfo(host)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        if (string.Equals(Path.GetFileNameWithoutExtension(host), "dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add(Assembly.GetEntryAssembly()?.Location ?? throw new InvalidOperationException("The entry assembly is unknown."));
        }

        string[] args =
        [
            "--fleet-member",
            "--instance", instance.ToString(CultureInfo.InvariantCulture),
            "--redis", options.Redis!,
            "--fleet-prefix", keyPrefix,
            "--seed", options.EffectiveSeed.ToString(CultureInfo.InvariantCulture),
            "--duration", options.Duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture),
        ];
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    private sealed class Member : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly IFleetObserver _observer;
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly StringBuilder _errors = new();
        private readonly Task _reader;

        private Member(Process process, int instance, IFleetObserver observer)
        {
            _process = process;
            _observer = observer;
            Status = new FleetMemberStatus(instance, process.Id);
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    lock (_errors)
                    {
                        _errors.AppendLine(e.Data);
                    }
                }
            };
            process.BeginErrorReadLine();
            _reader = Task.Run(ReadAsync);
        }

        public FleetMemberStatus Status { get; }

        private string Errors
        {
            get
            {
                lock (_errors)
                {
                    return _errors.ToString().Trim();
                }
            }
        }

        public static Member Start(ProcessStartInfo start, int instance, IFleetObserver observer)
        {
            Process process = Process.Start(start) ?? throw new InvalidOperationException($"Fleet instance {instance} did not start.");
            return new Member(process, instance, observer);
        }

        public async Task WaitReadyAsync(CancellationToken cancellationToken)
        {
            try
            {
                await _ready.Task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw new InvalidOperationException($"Fleet instance {Status.Instance} was not ready in time. {Errors}");
            }
        }

        public async Task SendAsync(string line)
        {
            await _process.StandardInput.WriteLineAsync(line);
            await _process.StandardInput.FlushAsync();
        }

        public async Task WaitExitAsync(CancellationToken cancellationToken)
        {
            try
            {
                await _process.WaitForExitAsync(cancellationToken);
                await _reader;
                Status.ExitCode = _process.ExitCode;
            }
            catch (OperationCanceledException)
            {
                Kill();
            }
        }

        private async Task ReadAsync()
        {
            try
            {
                while (await _process.StandardOutput.ReadLineAsync() is { } line)
                {
                    Handle(line);
                }
            }
            catch (IOException)
            {
                // The member is gone.
            }

            await _process.WaitForExitAsync();
            _ready.TrySetException(new InvalidOperationException(
                Format.Invariant($"Fleet instance {Status.Instance} exited with code {_process.ExitCode} before it was ready. {Errors}")));
        }

        private void Handle(string line)
        {
            (string kind, string payload) = FleetProtocol.Split(line);
            try
            {
                switch (kind)
                {
                    case FleetProtocol.Ready:
                        Status.OnReady(FleetProtocol.Read<ReadyMessage>(payload));
                        _observer.FleetMemberReady(Status);
                        _ready.TrySetResult();
                        break;
                    case FleetProtocol.Transition:
                        _observer.FleetTransition(Status.OnTransition(FleetProtocol.Read<TransitionMessage>(payload)));
                        break;
                    case FleetProtocol.Status:
                        Status.OnStatus(FleetProtocol.Read<StatusMessage>(payload));
                        break;
                    case FleetProtocol.Result:
                        Status.OnResult(FleetProtocol.Read<ResultMessage>(payload));
                        break;
                    default:
                        break; // not ours: ignore
                }
            }
            catch (JsonException)
            {
                // A garbled line: ignore it.
            }
        }

        private void Kill()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException)
            {
                // It exited meanwhile.
            }
        }

        public async ValueTask DisposeAsync()
        {
            Kill();
            try
            {
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (TimeoutException)
            {
                // Nothing more to do.
            }

            _process.Dispose();
        }
    }
}
