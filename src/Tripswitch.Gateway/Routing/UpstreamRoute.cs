using System.Text.Json;

namespace Tripswitch.Gateway.Routing;

/// <summary>One model at one provider, and the circuit that guards it (<c>provider/model</c>).</summary>
internal sealed class UpstreamRoute
{
    public UpstreamRoute(Provider provider, string model)
    {
        Provider = provider;
        Model = model;
        CircuitName = provider.Name + "/" + model;
        ModelJson = JsonSerializer.SerializeToUtf8Bytes(model, GatewayJsonContext.Default.String);
    }

    public Provider Provider { get; }

    /// <summary>The model's name at the provider (what the request body's <c>model</c> says when this route answers).</summary>
    public string Model { get; }

    /// <summary>The circuit's name in the registry and in the <c>Tripswitch</c> configuration section.</summary>
    public string CircuitName { get; }

    /// <summary><see cref="Model"/> as a JSON string token, ready to splice into a body.</summary>
    public byte[] ModelJson { get; }

    public override string ToString() => CircuitName;
}
