using Gatehouse.Config;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Cli;

/// <summary>
/// The console provider's wrapper drops only the generic host's "Hosting failed to start" (event 11 of its category), whose
/// exception the CLI prints as one line; the host's other events and every other category's event 11 pass.
/// </summary>
public sealed class HostStartFailureFilterTests
{
    [Fact]
    public void Only_the_hosts_start_failure_is_dropped()
    {
        var inner = new Capturing();
        using var filter = new HostStartFailureFilter(inner);
        var host = filter.CreateLogger(HostStartFailureFilter.HostCategory);
        var other = filter.CreateLogger("Gatehouse.Courier.CourierWorker");

        host.Log(LogLevel.Error, new EventId(11, "HostedServiceStartupFaulted"), "Hosting failed to start", new IOException("taken"), (s, _) => s);
        host.Log(LogLevel.Error, new EventId(9, "BackgroundServiceFaulted"), "BackgroundService failed", new InvalidOperationException("boom"), (s, _) => s);
        host.Log(LogLevel.Critical, new EventId(10, "BackgroundServiceStoppingHost"), "stopping the host", null, (s, _) => s);
        other.Log(LogLevel.Error, new EventId(11), "a worker's own event 11", null, (s, _) => s);

        Assert.Equal(
            [
                (HostStartFailureFilter.HostCategory, 9, "BackgroundService failed"),
                (HostStartFailureFilter.HostCategory, 10, "stopping the host"),
                ("Gatehouse.Courier.CourierWorker", 11, "a worker's own event 11"),
            ],
            inner.Entries);
    }

    [Theory]
    [InlineData("text")]
    [InlineData("json")]
    public void Configured_logging_has_the_wrapped_console_provider_alone(string format)
    {
        var services = new ServiceCollection();
        var options = new GatehouseOptions();
        options.Log.Format = format;
        services.AddLogging(logging => GatehouseApp.ConfigureLogging(logging, options));
        using var provider = services.BuildServiceProvider();

        var providers = provider.GetServices<ILoggerProvider>().ToList();

        Assert.IsType<HostStartFailureFilter>(Assert.Single(providers));
        Assert.True(provider.GetRequiredService<ILoggerFactory>().CreateLogger("x").IsEnabled(LogLevel.Information));
    }

    private sealed class Capturing : ILoggerProvider
    {
        public List<(string Category, int Event, string Message)> Entries { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(Capturing owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Entries.Add((category, eventId.Id, formatter(state, exception)));
        }
    }
}
