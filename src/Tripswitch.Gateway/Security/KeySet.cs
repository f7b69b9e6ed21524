using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Tripswitch.Gateway.Security;

/// <summary>
/// A set of secret keys checked in constant time: only their SHA-256 hashes are kept, and a candidate is compared
/// with every one of them, so neither timing nor a memory dump reveals a key.
/// </summary>
internal sealed class KeySet
{
    private readonly byte[][] _hashes;

    public KeySet(IEnumerable<string> keys) => _hashes = [.. keys.Select(static k => SHA256.HashData(Encoding.UTF8.GetBytes(k)))];

    public bool IsEmpty => _hashes.Length == 0;

    /// <summary>Whether <paramref name="candidate"/> is one of the keys.</summary>
    public bool Contains(ReadOnlySpan<char> candidate) => TryMatch(candidate, out _);

    /// <summary>
    /// Finds <paramref name="candidate"/> among the keys: <paramref name="index"/> is its position in the configured
    /// list (a key id that can be logged; the key itself never is). Every key is compared, whichever matches.
    /// </summary>
    public bool TryMatch(ReadOnlySpan<char> candidate, out int index)
    {
        index = -1;
        if (candidate.IsEmpty || candidate.Length > 1024)
        {
            return false;
        }

        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(candidate.Length)];
        int length = Encoding.UTF8.GetBytes(candidate, utf8);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..length], hash);
        for (int i = 0; i < _hashes.Length; i++)
        {
            // No early exit: the time taken does not depend on which key (if any) matched.
            bool equal = CryptographicOperations.FixedTimeEquals(hash, _hashes[i]);
            index = equal ? i : index;
        }

        return index >= 0;
    }

    /// <summary>
    /// The key a request carries: <c>Authorization: Bearer key</c>, else <c>api-key</c> (Azure-style clients), else
    /// <c>x-api-key</c> (Anthropic-style clients); empty when it carries none.
    /// </summary>
    public static ReadOnlySpan<char> KeyOf(HttpRequest request)
    {
        string? authorization = request.Headers.Authorization;
        if (authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization.AsSpan(7).Trim();
        }

        string? apiKey = request.Headers["api-key"];
        return (string.IsNullOrEmpty(apiKey) ? (string?)request.Headers["x-api-key"] : apiKey).AsSpan().Trim();
    }
}
