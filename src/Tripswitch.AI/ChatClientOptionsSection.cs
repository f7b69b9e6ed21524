using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Tripswitch.AI;

/// <summary>
/// Reads what configuration can set on <see cref="CircuitBreakerChatClientOptions"/>: its plain values (the fallback
/// client and the key selector are code), strictly: an unknown key (a typo) or a value that doesn't parse is an
/// <see cref="OptionError"/>, reported with the options' name when they are validated (so start-up fails). Only the keys
/// present are applied. No binder: the message is Tripswitch's ("did you mean"), the same as the <c>Tripswitch</c> section's.
/// </summary>
internal static class ChatClientOptionsSection
{
    private const string Owner = nameof(CircuitBreakerChatClientOptions);

    private static readonly string[] s_options = [nameof(CircuitBreakerChatClientOptions.FallbackModelId), nameof(CircuitBreakerChatClientOptions.TimeToFirstTokenThreshold)];

    /// <summary>Applies <paramref name="section"/> to <paramref name="options"/>; problems go to <see cref="CircuitBreakerChatClientOptions.ConfigurationErrors"/>.</summary>
    public static void Apply(IConfiguration section, CircuitBreakerChatClientOptions options)
    {
        var errors = new List<OptionError>();
        foreach (IConfigurationSection child in section.GetChildren())
        {
            if (!OptionChecks.CheckKnownOption(errors, Owner, child.Key, child.Path, s_options))
            {
                continue;
            }

            string text = child.Value?.Trim() ?? string.Empty;
            if (string.Equals(child.Key, nameof(CircuitBreakerChatClientOptions.FallbackModelId), StringComparison.OrdinalIgnoreCase))
            {
                options.FallbackModelId = text.Length == 0 ? null : text;
            }
            else if (text.Length == 0)
            {
                options.TimeToFirstTokenThreshold = null; // an empty value clears it
            }
            else if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out TimeSpan threshold))
            {
                options.TimeToFirstTokenThreshold = threshold;
            }
            else
            {
                errors.Add(new OptionError(OptionErrorKind.Invalid, Owner, child.Key, child.Value, "a duration such as 00:00:10", $"{Owner}.{child.Key} (at '{child.Path}') must be a duration such as 00:00:10; '{child.Value}' is not."));
            }
        }

        options.ConfigurationErrors = errors;
    }
}
