namespace Tripswitch.Redis;

/// <summary>
/// Where a circuit lives in Redis. Every key of one circuit carries the same hash tag, <c>{c:name}</c>, so on Redis
/// Cluster they share one hash slot and a script may touch all of them (no CROSSSLOT); different circuits spread over
/// the slots.
/// </summary>
/// <remarks>
/// Keys: <c>prefix{c:name}</c> (a hash: the state) and <c>prefix{c:name}:leases</c> (a sorted set: half-open probe
/// leases). Both are <c>prefix + "{c:" + name + "}" + suffix</c>, so whatever the prefix and the name contain (even
/// braces), the first <c>{</c> and the first <c>}</c> after it fall inside the part the two keys share: they always hash
/// to the same slot. The pub/sub channel is one per fleet, <c>prefix + "events"</c>: Redis Cluster forwards a PUBLISH to
/// every node, and StackExchange.Redis subscribes on one node and moves the subscription when that node fails.
/// </remarks>
internal static class RedisKeyLayout
{
    /// <summary>The state hash of the circuit <paramref name="name"/>.</summary>
    public static string Hash(string prefix, string name) => prefix + "{c:" + name + "}";

    /// <summary>The sorted set of the circuit's half-open probe leases (score = expiry, server ms).</summary>
    public static string Leases(string prefix, string name) => Hash(prefix, name) + ":leases";

    /// <summary>The fleet's pub/sub channel.</summary>
    public static string Channel(string prefix) => prefix + "events";
}
