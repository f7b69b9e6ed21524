namespace Tripswitch.Testing;

/// <summary>The failure the tests' callbacks throw; counted as a failure unless a test's ShouldHandle says otherwise.</summary>
public sealed class TestFailureException : Exception
{
    /// <summary>A failure with the message "boom".</summary>
    public TestFailureException()
        : base("boom")
    {
    }

    /// <summary>A failure with <paramref name="message"/>.</summary>
    public TestFailureException(string message)
        : base(message)
    {
    }

    /// <summary>A failure with <paramref name="message"/> wrapping <paramref name="innerException"/>.</summary>
    public TestFailureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>An exception the tests configure as not handled (<see cref="TestBreakers.IgnoreNotHandled"/> returns false for it).</summary>
public sealed class NotHandledException : Exception
{
    /// <summary>An exception with the message "not a failure".</summary>
    public NotHandledException()
        : base("not a failure")
    {
    }

    /// <summary>An exception with <paramref name="message"/>.</summary>
    public NotHandledException(string message)
        : base(message)
    {
    }

    /// <summary>An exception with <paramref name="message"/> wrapping <paramref name="innerException"/>.</summary>
    public NotHandledException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A failure that carries a server's Retry-After (like a 429).</summary>
public sealed class RetryAfterHintException : Exception, IRetryAfterHint
{
    /// <summary>A 429 without a wait.</summary>
    public RetryAfterHintException()
        : base("429 Too Many Requests")
    {
    }

    /// <summary>A failure with <paramref name="message"/> and no wait.</summary>
    public RetryAfterHintException(string message)
        : base(message)
    {
    }

    /// <summary>A failure with <paramref name="message"/> wrapping <paramref name="innerException"/>, no wait.</summary>
    public RetryAfterHintException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>A 429 asking to come back after <paramref name="retryAfter"/>.</summary>
    public RetryAfterHintException(TimeSpan? retryAfter)
        : base("429 Too Many Requests")
    {
        RetryAfter = retryAfter;
    }

    /// <inheritdoc/>
    public TimeSpan? RetryAfter { get; }
}
