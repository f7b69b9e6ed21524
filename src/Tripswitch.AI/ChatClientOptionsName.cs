namespace Tripswitch.AI;

/// <summary>A name registered with <c>AddCircuitBreakerChatClientOptions</c>, so <c>UseCircuitBreaker(name)</c> can refuse an unregistered one.</summary>
internal sealed record ChatClientOptionsName(string Name);
