namespace Tripswitch.FakeLlm;

/// <summary>Options of a <see cref="FakeLlmServer"/>.</summary>
public sealed class FakeLlmServerOptions
{
    /// <summary>The models the server knows at start (more can be added with <see cref="FakeLlmServer.Model"/>).</summary>
    /// <value>Defaults to <c>gpt-4.1</c>, <c>gpt-4.1-mini</c> and <c>gpt-4o-mini</c>.</value>
    public IList<string> Models { get; init; } = ["gpt-4.1", "gpt-4.1-mini", "gpt-4o-mini"];

    /// <summary>Gives the <c>created</c> timestamps of completions and chunks.</summary>
    /// <value>Defaults to <see cref="System.TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
