using Microsoft.Extensions.Configuration;

namespace Tripswitch.AI;

/// <summary>
/// What configuration can set on <see cref="CircuitBreakerChatClientOptions"/>: its plain values (the fallback client and
/// the key selector are code). Any other key in the section (a typo) is an error that names it.
/// </summary>
internal sealed class ChatClientOptionsSection
{
    public string? FallbackModelId { get; set; }

    public TimeSpan? TimeToFirstTokenThreshold { get; set; }

    public static ChatClientOptionsSection Read(IConfiguration section)
    {
        var values = new ChatClientOptionsSection();
        section.Bind(values, static b => b.ErrorOnUnknownConfiguration = true);
        return values;
    }

    public void ApplyTo(CircuitBreakerChatClientOptions options)
    {
        if (FallbackModelId is not null)
        {
            options.FallbackModelId = FallbackModelId;
        }

        if (TimeToFirstTokenThreshold is not null)
        {
            options.TimeToFirstTokenThreshold = TimeToFirstTokenThreshold;
        }
    }
}
