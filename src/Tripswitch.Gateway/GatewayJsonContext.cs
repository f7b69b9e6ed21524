using System.Text.Json.Serialization;

namespace Tripswitch.Gateway;

/// <summary>Source-generated JSON metadata (no reflection): trimming and single-file publishing stay safe.</summary>
[JsonSerializable(typeof(string))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;
