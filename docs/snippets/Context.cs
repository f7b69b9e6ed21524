namespace Docs.Snippets;

// What the README's examples call: stand-ins for the reader's own clients, so each example compiles as written.

/// <summary>The seed's example client: a completion and a chat call.</summary>
public interface ICompletionClient
{
    /// <summary>Completes a prompt.</summary>
    string Complete(string prompt);

    /// <summary>Asks a model.</summary>
    string Chat(string model, string prompt);
}

/// <summary>A package README's example dependency.</summary>
public interface IInventoryClient
{
    /// <summary>Stock of an item.</summary>
    int GetStock(string sku);
}

/// <summary>The Polly package README's example dependency.</summary>
public interface IBillingClient
{
    /// <summary>Charges.</summary>
    Task ChargeAsync(CancellationToken cancellationToken);
}
