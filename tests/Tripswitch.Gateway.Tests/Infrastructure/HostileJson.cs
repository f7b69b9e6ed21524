using System.Text;
using System.Text.Json;
using CsCheck;

namespace Tripswitch.Gateway.Tests.Infrastructure;

/// <summary>
/// CsCheck generators of request bodies meant to split readers: repeated and escaped <c>model</c> keys, non-string
/// models, nested <c>model</c> keys, escapes and lone surrogates, huge strings, nesting around the depth limit, and
/// byte-level damage (truncation, invalid UTF-8, trailing data, non-object bodies, random bytes).
/// </summary>
internal static class HostileJson
{
    /// <summary>Models the test gateway serves, one it does not, and one spelled with an escape (<c>gpt-4.1</c>).</summary>
    private static readonly Gen<string> ModelString = Gen.OneOf(
        Gen.Const("\"gpt-4.1\""), Gen.Const("\"gpt-4o-mini\""), Gen.Const("\"gpt-4.1-mini\""), Gen.Const("\"o1-pro\""), Gen.Const("\"gpt\\u002d4.1\""));

    /// <summary>Names that are (or are not) <c>model</c> once unescaped.</summary>
    private static readonly Gen<string> ModelKey = Gen.Frequency(
        (6, Gen.Const("\"model\"")), (1, Gen.Const("\"mod\\u0065l\"")), (1, Gen.Const("\"\\u006Dodel\"")), (1, Gen.Const("\"Model\"")), (1, Gen.Const("\"model \"")));

    private static readonly Gen<string> Text = Gen.Frequency(
        (4, Gen.String[0, 12].Select(static s => JsonSerializer.Serialize(s))),
        (1, Gen.OneOf(Gen.Const("\"\\ud800\""), Gen.Const("\"\\udc00x\""), Gen.Const("\"é ☃ 𝄞\""), Gen.Const("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""))),
        (1, Gen.Int[0, 70_000].Select(static n => "\"" + new string('x', n) + "\"")),
        (1, ModelString));

    private static readonly Gen<string> Scalar = Gen.OneOf(
        Text, Gen.Int.Select(static i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), Gen.Const("1.5e300"), Gen.Const("true"), Gen.Const("false"), Gen.Const("null"));

    private static readonly Gen<string> Value = Gen.Recursive<string>((depth, self) => depth >= 4
        ? Scalar
        : Gen.Frequency(
            (5, Scalar),
            (1, self.Array[0, 4].Select(static items => "[" + string.Join(",", items) + "]")),
            (1, Gen.Select(Gen.OneOf(ModelKey, Text), self, static (k, v) => k + ":" + v).Array[0, 4].Select(static members => "{" + string.Join(",", members) + "}"))));

    /// <summary>A top-level object: other members, and zero to three top-level <c>model</c> members (mostly strings).</summary>
    private static readonly Gen<string> Body = Gen.Select(
        Gen.Select(Gen.OneOf(Text, Gen.Const("\"messages\"")), Value, static (k, v) => k + ":" + v).Array[0, 4],
        Gen.Select(ModelKey, Gen.Frequency((6, ModelString), (1, Value)), static (k, v) => k + ":" + v).Array[0, 3],
        Gen.Int,
        static (others, models, order) =>
        {
            var members = new List<string>(others);
            foreach (string model in models)
            {
                members.Insert((int)((uint)order % (members.Count + 1)), model);
                order = order * 31 + 7;
            }

            return "{" + string.Join(",", members) + "}";
        });

    /// <summary>A body nested just under, at or just over the depth limit.</summary>
    private static readonly Gen<string> Deep = Gen.Int[60, 68].Select(static d =>
        "{\"model\":\"gpt-4o-mini\",\"x\":" + new string('[', d) + new string(']', d) + "}");

    private static readonly Gen<string> Document = Gen.Frequency((9, Body), (1, Deep));

    /// <summary>A body as bytes: mostly well-formed, a quarter damaged or replaced.</summary>
    public static readonly Gen<byte[]> Bytes = Gen.Select(Document, Gen.Int[0, 9], Gen.Int[0, int.MaxValue], Gen.Byte.Array[0, 40], static (json, damage, at, noise) =>
    {
        byte[] bytes = Encoding.UTF8.GetBytes(json);
        int position = at % (bytes.Length + 1);
        return damage switch
        {
            0 => bytes[..position],                                               // truncated
            1 => [.. bytes[..position], 0xFF, .. bytes[position..]],              // invalid UTF-8
            2 => [.. bytes[..position], 0xC3, .. bytes[position..]],              // a cut two-byte sequence
            3 => [.. bytes, .. "{\"model\":\"o1-pro\"}"u8],                         // trailing data
            4 => [.. "["u8, .. bytes, .. "]"u8],                                  // not an object
            5 => noise,                                                           // random bytes
            _ => bytes,
        };
    });
}
