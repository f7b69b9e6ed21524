using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using Xunit;
using Xunit.v3;

namespace Tripswitch.Testing;

/// <summary>
/// The per-test timeout of every test project (applied to each test assembly by <c>Directory.Build.props</c>): a test
/// still running after its budget has its own token, <see cref="TestContext.CancellationToken"/>, cancelled, so every
/// wait bounded by that token (and every kit helper: <see cref="Eventually"/>, <see cref="ThreadRace"/>) ends, and the
/// test fails with a message naming the budget it overran. The run goes on with the next test.
/// </summary>
/// <remarks>
/// <para>
/// A test that waits on something its token can't end (a blocking call with no bound) can't be cancelled from outside;
/// for that the run has a second net: <c>test.sh</c> runs every test application with Microsoft.Testing.Platform's hang
/// dump (<c>--hangdump --hangdump-timeout</c>), which, when a test host shows no test activity for longer than every
/// budget, prints the tests still running with their names and durations, writes a dump and ends the host, so the run
/// fails instead of waiting forever.
/// </para>
/// <para>
/// The budget is <see cref="DefaultBudget"/>, or <c>TRIPSWITCH_TEST_BUDGET_SECONDS</c> when set (an hour's soak needs
/// more). It is generous on purpose: it is there to end what would never end, not to time anything.
/// </para>
/// </remarks>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class TestBudgetAttribute : BeforeAfterTestAttribute
{
    /// <summary>The environment variable that overrides <see cref="DefaultBudget"/>, in whole seconds.</summary>
    public const string BudgetVariable = "TRIPSWITCH_TEST_BUDGET_SECONDS";

    /// <summary>The default budget of one test: far above what any test here takes, even on a loaded 2-core machine.</summary>
    public static readonly TimeSpan DefaultBudget = TimeSpan.FromMinutes(4);

    // Before and After of one test run in the same test, but not in one async flow (an AsyncLocal set in Before doesn't
    // reach After), and tests run in parallel on this one attribute instance: so the watches are keyed by the test.
    private readonly ConcurrentDictionary<string, Watch> _watches = new();

    /// <summary>The budget every test of the run gets.</summary>
    public static TimeSpan Budget { get; } = ReadBudget();

    /// <inheritdoc />
    public override void Before(MethodInfo methodUnderTest, IXunitTest test)
    {
        ArgumentNullException.ThrowIfNull(test);
        ITestContext context = TestContext.Current;
        var watch = new Watch(context, Budget);
        _watches[test.UniqueID] = watch;
    }

    /// <inheritdoc />
    public override void After(MethodInfo methodUnderTest, IXunitTest test)
    {
        ArgumentNullException.ThrowIfNull(test);
        if (_watches.TryRemove(test.UniqueID, out Watch? watch))
        {
            bool overran = watch.Stop();
            if (overran)
            {
                throw new TimeoutException(
                    $"The test '{test.TestDisplayName}' ran past its budget of {Budget.TotalSeconds:0} s; its token was cancelled to end it. " +
                    $"Something it waited on never happened (set {BudgetVariable} to change the budget).");
            }
        }
    }

    private static TimeSpan ReadBudget()
    {
        string? value = Environment.GetEnvironmentVariable(BudgetVariable);
        if (string.IsNullOrWhiteSpace(value))
        {
            return DefaultBudget;
        }

        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int seconds) || seconds < 1)
        {
            throw new InvalidOperationException($"{BudgetVariable} must be a whole number of seconds, 1 or more; it is '{value}'.");
        }

        return TimeSpan.FromSeconds(seconds);
    }

    private sealed class Watch
    {
        private readonly ITimer _timer;
        private int _fired;

        public Watch(ITestContext context, TimeSpan budget)
            => _timer = TimeProvider.System.CreateTimer(
                static state =>
                {
                    var (watch, context) = ((Watch, ITestContext))state!;
                    Interlocked.Exchange(ref watch._fired, 1);
                    context.CancelCurrentTest();
                },
                (this, context),
                budget,
                Timeout.InfiniteTimeSpan);

        /// <summary>Stops the watch; true when the budget ran out (the test's token was cancelled).</summary>
        public bool Stop()
        {
            _timer.Dispose();
            return Volatile.Read(ref _fired) == 1;
        }
    }
}
