using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Tripswitch.Http;

/// <summary>
/// Reads what configuration can set on <see cref="CircuitBreakerHandlerOptions"/> (its plain values; the delegates are
/// code), strictly: an unknown key (a typo) or a value that doesn't parse is an <see cref="OptionError"/>, reported with
/// the client's name when the options are validated (so start-up fails). Only the keys present are applied. No binder
/// and no reflection: the message is Tripswitch's ("did you mean"), not the binder's, and it is safe to trim.
/// </summary>
internal static class HandlerOptionsSection
{
    private const string Owner = nameof(CircuitBreakerHandlerOptions);

    private static readonly string[] s_options = [nameof(CircuitBreakerHandlerOptions.ReturnServiceUnavailableWhenOpen), nameof(CircuitBreakerHandlerOptions.Timeout)];

    /// <summary>Applies <paramref name="section"/> to <paramref name="options"/>; problems go to <see cref="CircuitBreakerHandlerOptions.ConfigurationErrors"/>.</summary>
    public static void Apply(IConfiguration section, CircuitBreakerHandlerOptions options)
    {
        var errors = new List<OptionError>();
        foreach (IConfigurationSection child in section.GetChildren())
        {
            if (!OptionChecks.CheckKnownOption(errors, Owner, child.Key, child.Path, s_options))
            {
                continue;
            }

            string text = child.Value?.Trim() ?? string.Empty;
            if (string.Equals(child.Key, nameof(CircuitBreakerHandlerOptions.Timeout), StringComparison.OrdinalIgnoreCase))
            {
                if (text.Length == 0)
                {
                    options.Timeout = null; // an empty value clears it: no timeout of the handler's own
                }
                else if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out TimeSpan timeout))
                {
                    options.Timeout = timeout;
                }
                else
                {
                    errors.Add(NotParsed(child, "a duration such as 00:00:30"));
                }
            }
            else if (bool.TryParse(text, out bool synthesize))
            {
                options.ReturnServiceUnavailableWhenOpen = synthesize;
            }
            else
            {
                errors.Add(NotParsed(child, "true or false"));
            }
        }

        options.ConfigurationErrors = errors;
    }

    private static OptionError NotParsed(IConfigurationSection child, string expected)
        => new(OptionErrorKind.Invalid, Owner, child.Key, child.Value, expected, $"{Owner}.{child.Key} (at '{child.Path}') must be {expected}; '{child.Value}' is not.");
}
