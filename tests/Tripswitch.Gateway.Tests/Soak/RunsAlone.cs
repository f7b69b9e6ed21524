using Xunit;

namespace Tripswitch.Gateway.Tests.Soak;

/// <summary>
/// The soak runs alone, after the parallel tests: it measures the process's managed memory and listens for unobserved
/// task exceptions, both process-wide, and its load should not slow other tests' real-time waits.
/// </summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public sealed class RunsAlone;
