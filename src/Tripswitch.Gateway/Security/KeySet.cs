using System.Security.Cryptography;
using System.Text;

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

    public bool Contains(ReadOnlySpan<char> candidate)
    {
        if (candidate.IsEmpty || candidate.Length > 1024)
        {
            return false;
        }

        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(candidate.Length)];
        int length = Encoding.UTF8.GetBytes(candidate, utf8);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..length], hash);
        bool found = false;
        foreach (byte[] known in _hashes)
        {
            found |= CryptographicOperations.FixedTimeEquals(hash, known);
        }

        return found;
    }

    /// <summary>The key a request carries: <c>Authorization: Bearer key</c>, else <c>api-key</c> (Azure-style clients).</summary>
    public static ReadOnlySpan<char> KeyOf(Microsoft.AspNetCore.Http.HttpRequest request)
    {
        string? authorization = request.Headers.Authorization;
        if (authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization.AsSpan(7).Trim();
        }

        return ((string?)request.Headers["api-key"]).AsSpan().Trim();
    }
}
