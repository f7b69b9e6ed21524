using Microsoft.Extensions.AI;

namespace Tripswitch.AI;

/// <summary>Options of a <see cref="CircuitBreakerChatClient"/>.</summary>
public sealed class CircuitBreakerChatClientOptions
{
    /// <summary>Chooses the circuit of a request from its options and the inner client's metadata.</summary>
    /// <value>
    /// Defaults to <see langword="null"/>: one circuit per model, keyed <c>provider/model</c> (for example
    /// <c>openai/gpt-4.1</c>): the provider from <see cref="ChatClientMetadata.ProviderName"/> (or <c>chat</c>), the model
    /// from <see cref="ChatOptions.ModelId"/>, else <see cref="ChatClientMetadata.DefaultModelId"/> (or <c>default</c>).
    /// </value>
    public Func<ChatOptions?, ChatClientMetadata?, string>? KeySelector { get; set; }

    /// <summary>
    /// The client that answers while a model's circuit is open (for example a cheaper model, or another provider), and
    /// also after a handled failure when the circuit's <see cref="CircuitBreakerOptions.FallbackOnFailure"/> is set — for a
    /// streamed response, only when it fails before its first update (after that the caller already has part of the
    /// answer, and the failure reaches it). Never after the caller's own cancellation.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: a rejected request throws <see cref="CircuitOpenException"/>.</value>
    public IChatClient? FallbackClient { get; set; }

    /// <summary>The model the fallback client is asked for; <see langword="null"/> lets it use its own default model.</summary>
    /// <value>Defaults to <see langword="null"/>. The request's own <see cref="ChatOptions.ModelId"/> is never passed to the fallback.</value>
    public string? FallbackModelId { get; set; }

    /// <summary>
    /// A streamed response whose first update arrives later than this counts as a failure (a slow call), even if the
    /// stream then completes: a model that takes a minute to start answering is not healthy. So does a stream that ends
    /// without any update after longer than this, and one the caller cancels (or stops reading) once the threshold has
    /// passed without a first update or after a late one; a cancellation within the threshold is still not counted.
    /// </summary>
    /// <value>Defaults to <see langword="null"/> (not measured). Valid range: 1 millisecond to 1 day.</value>
    public TimeSpan? TimeToFirstTokenThreshold { get; set; }

    /// <summary>The default key: <c>provider/model</c>.</summary>
    /// <param name="options">The request's options.</param>
    /// <param name="metadata">The inner client's metadata.</param>
    /// <returns>The key.</returns>
    public static string ModelKey(ChatOptions? options, ChatClientMetadata? metadata)
    {
        string provider = string.IsNullOrWhiteSpace(metadata?.ProviderName) ? "chat" : metadata.ProviderName;
        string? model = options?.ModelId;
        if (string.IsNullOrWhiteSpace(model))
        {
            model = string.IsNullOrWhiteSpace(metadata?.DefaultModelId) ? "default" : metadata.DefaultModelId;
        }

        return $"{provider}/{model}";
    }

    /// <summary>Every problem with these options, as data (option, value, valid range, message); empty when they are valid.</summary>
    /// <returns>The errors.</returns>
    public IReadOnlyList<OptionError> GetValidationErrors()
    {
        var errors = new List<OptionError>();
        if (TimeToFirstTokenThreshold is { } threshold)
        {
            OptionChecks.CheckRange(errors, nameof(CircuitBreakerChatClientOptions), nameof(TimeToFirstTokenThreshold), threshold, MinTimeToFirstTokenThreshold, MaxTimeToFirstTokenThreshold);
        }

        return errors;
    }

    /// <summary>Throws the first of <see cref="GetValidationErrors"/>: an <see cref="ArgumentOutOfRangeException"/> naming the option and its valid range.</summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public void Validate() => OptionChecks.ThrowIfAny(GetValidationErrors());

    /// <summary>The shortest <see cref="TimeToFirstTokenThreshold"/>.</summary>
    /// <summary>Problems found when these options were read from a configuration section (unknown keys, values that don't parse); reported with <see cref="GetValidationErrors"/>'s by the start-up validation.</summary>
    internal IReadOnlyList<OptionError> ConfigurationErrors { get; set; } = [];

    internal static readonly TimeSpan MinTimeToFirstTokenThreshold = TimeSpan.FromMilliseconds(1);

    /// <summary>The longest <see cref="TimeToFirstTokenThreshold"/>.</summary>
    internal static readonly TimeSpan MaxTimeToFirstTokenThreshold = TimeSpan.FromDays(1);
}
