namespace Gatehouse.Config;

/// <summary>
/// The configuration cannot be used. The message is one line that names the key (or file) at fault and
/// what is expected, e.g. <c>serve.public.port: expected an integer between 0 and 65535, got "abc"</c>.
/// </summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string message) : base(message) { }

    public ConfigException(string message, Exception innerException) : base(message, innerException) { }

    public ConfigException() : base("The configuration is invalid.") { }
}
