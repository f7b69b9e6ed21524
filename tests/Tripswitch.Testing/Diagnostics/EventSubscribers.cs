using System.Reflection;

namespace Tripswitch.Testing;

/// <summary>
/// Who is subscribed to an event now: the handlers of a field-like event (one the compiler backs with a delegate field of
/// the same name, as <c>CircuitBreakerRegistry.StateChanged</c>). How a test proves a subscription was released by the
/// subscriber itself, rather than by a counter the subscriber keeps about itself.
/// </summary>
public static class EventSubscribers
{
    /// <summary>The handlers subscribed to <paramref name="eventName"/> on <paramref name="source"/>, in subscription order.</summary>
    /// <exception cref="InvalidOperationException">The type has no field-like event of that name.</exception>
    public static IReadOnlyList<Delegate> Of(object source, string eventName)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        for (Type? type = source.GetType(); type is not null; type = type.BaseType)
        {
            if (type.GetEvent(eventName, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly) is null)
            {
                continue;
            }

            FieldInfo field = type.GetField(eventName, BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                ?? throw new InvalidOperationException($"{type.Name}.{eventName} is not a field-like event: its handlers can't be read.");
            return field.GetValue(source) is Delegate handlers ? handlers.GetInvocationList() : [];
        }

        throw new InvalidOperationException($"{source.GetType().Name} has no event {eventName}.");
    }

    /// <summary>How many of those handlers are methods of instances of types from <paramref name="assembly"/> (e.g. one library's subscriptions).</summary>
    public static int CountFrom(object source, string eventName, Assembly assembly)
        => Of(source, eventName).Count(handler => (handler.Target?.GetType() ?? handler.Method.DeclaringType)?.Assembly == assembly);
}
