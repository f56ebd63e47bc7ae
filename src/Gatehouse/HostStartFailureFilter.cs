using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Gatehouse;

/// <summary>
/// Wraps the console logger provider to drop one event: the generic host's "Hosting failed to start"
/// (<c>Microsoft.Extensions.Hosting.Internal.Host</c>, event 11, logged at error with the exception's stack trace). The same
/// exception leaves <c>StartAsync</c>/<c>RunAsync</c>, where the CLI prints a known failure such as a port already in use
/// as one <c>error:</c> line (<c>CliContext.Run</c>) and the runtime prints any other in full, so the log line only
/// repeated it. Every other event of that category (a background service that faulted or stopped the host) still logs.
/// Log filter rules see only provider, category and level, not the event id; hence a wrapping provider.
/// </summary>
[ProviderAlias("Console")]
internal sealed class HostStartFailureFilter(ILoggerProvider inner) : ILoggerProvider, ISupportExternalScope
{
    public const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";
    public const int HostingFailedToStart = 11;

    /// <summary>Replaces the console provider <paramref name="logging"/> has registered by this wrapper around it.</summary>
    public static void Apply(ILoggingBuilder logging)
    {
        var console = logging.Services.Single(d => d.ServiceType == typeof(ILoggerProvider) && d.ImplementationType == typeof(ConsoleLoggerProvider));
        logging.Services.Remove(console);
        logging.Services.AddSingleton<ILoggerProvider>(sp => new HostStartFailureFilter(
            new ConsoleLoggerProvider(sp.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>(), sp.GetServices<ConsoleFormatter>())));
    }

    public ILogger CreateLogger(string categoryName)
    {
        var logger = inner.CreateLogger(categoryName);
        return string.Equals(categoryName, HostCategory, StringComparison.Ordinal) ? new Filtered(logger) : logger;
    }

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => (inner as ISupportExternalScope)?.SetScopeProvider(scopeProvider);

    public void Dispose() => inner.Dispose();

    private sealed class Filtered(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == HostingFailedToStart) return;
            inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
