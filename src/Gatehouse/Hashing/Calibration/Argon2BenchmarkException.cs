namespace Gatehouse.Hashing.Calibration;

/// <summary>
/// A measurement that could not finish: a load test took more than 110 % of its time or memory, or a hash failed.
/// The message is Kratos's, for the operator.
/// </summary>
public sealed class Argon2BenchmarkException : Exception
{
    public Argon2BenchmarkException()
    {
    }

    public Argon2BenchmarkException(string message)
        : base(message)
    {
    }

    public Argon2BenchmarkException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
