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
