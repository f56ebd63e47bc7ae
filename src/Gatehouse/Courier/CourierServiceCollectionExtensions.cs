using Gatehouse.Config;
using Gatehouse.Courier.Templates;
using Gatehouse.Http.Outbound;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.Courier;

public static class CourierServiceCollectionExtensions
{
    /// <summary>
    /// The courier's services: <see cref="Courier"/> (queueing), the templates, the SMTP sender (the dev mailbox in <c>--dev</c> without SMTP) and the worker. The worker
    /// only runs where <see cref="AddCourierWorker"/> adds its hosted service.
    /// </summary>
    public static IServiceCollection AddCourier(this IServiceCollection services, GatehouseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        HttpChannel.Read(options);
        services.TryAddSingleton<CourierTemplates>();
        services.AddHttpContextAccessor();
        services.TryAddScoped<Courier>();
        services.TryAddScoped<CourierQueue>();
        services.TryAddScoped<CourierMessages>();
        if (DevMailbox.Active(options)) services.TryAddSingleton<IMessageSender, DevMailboxSender>();
        else services.TryAddSingleton<IMessageSender, SmtpMessageSender>();
        services.AddOutboundRequests();
        services.TryAddSingleton<HttpChannel>();
        services.TryAddSingleton<CourierWorker>();
        return services;
    }

    /// <summary>Runs the delivery worker in the host (<c>serve --watch-courier</c>, <c>courier watch</c>).</summary>
    public static IServiceCollection AddCourierWorker(this IServiceCollection services)
    {
        services.AddHostedService<CourierWorkerService>();
        return services;
    }
}
