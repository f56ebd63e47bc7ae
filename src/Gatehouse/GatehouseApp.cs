using System.Net;
using Gatehouse.ApiKeys;
using Gatehouse.Config;
using Gatehouse.Courier;
using Gatehouse.Hashing;
using Gatehouse.Http;
using Gatehouse.Http.Cors;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Health;
using Gatehouse.Http.Json;
using Gatehouse.Http.Metrics;
using Gatehouse.Http.Tracing;
using Gatehouse.Identities;
using Gatehouse.OAuth2;
using Gatehouse.Persistence;
using Gatehouse.RateLimiting;
using Gatehouse.Schemas;
using Gatehouse.SelfService;
using Gatehouse.SelfService.Errors;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Hooks;
using Gatehouse.SelfService.Strategies.Oidc.Fedcm;
using Gatehouse.SelfService.Strategies.WebAuthn;
using Gatehouse.Sessions;
using Gatehouse.Ui;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse;

/// <summary>Builds the Gatehouse web application: both listeners, the features' services and their endpoints.</summary>
public static class GatehouseApp
{
    /// <summary>The request line and the headers may each take this many bytes: Go's <c>http.DefaultMaxHeaderBytes</c>.</summary>
    public const int MaxRequestHeaderBytes = 1 << 20;

    public static WebApplication Build(GatehouseOptions options, IdentitySchemaRegistry schemas, Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        ConfigureLogging(builder.Logging, options);

        var publicTls = ListenerTls.For(options.Serve, options.Serve.Public, "serve.public", TimeProvider.System);
        var adminTls = ListenerTls.For(options.Serve, options.Serve.Admin, "serve.admin", TimeProvider.System);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = HttpJson.MaxBodyBytes;
            // Go's net/http (Kratos) takes 1 MB of request line and headers; Kestrel's 8 KB line would answer 414 to
            // GET /admin/identities with more than ~200 of the 500 ids Kratos lets a list filter by.
            k.Limits.MaxRequestLineSize = MaxRequestHeaderBytes;
            k.Limits.MaxRequestHeadersTotalSize = MaxRequestHeaderBytes;
            var shared = UnixSockets.Shared(options.Serve);
            if (shared || options.Serve.Served != ServedListeners.Admin) Listen(k, options.Serve.Public, publicTls, admin: false);
            if (!shared && options.Serve.Served != ServedListeners.Public) Listen(k, options.Serve.Admin, adminTls, admin: true);
        });

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(schemas);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(new ListenerPorts(options.Serve.Public.Port, options.Serve.Admin.Port, ReturnUrlPolicy.PublicBaseUrl(options),
            adminOnSocket: UnixSockets.PathOf(options.Serve.Admin.Host) is not null, shared: UnixSockets.Shared(options.Serve)));
        if (UnixSockets.PathOf(options.Serve.Public.Host) is not null || UnixSockets.PathOf(options.Serve.Admin.Host) is not null)
        {
            services.AddHostedService<UnixSocketPermissions>();
        }
        services.AddPersistence(Dsn.Parse(options.Dsn));
        if (options.Database.Cleanup.Janitor.Enabled) services.AddHostedService<Persistence.Cleanup.CleanupJanitor>();
        services.AddSingleton<Http.Errors.DatabaseOutage>();
        services.AddHashing();
        services.AddRateLimiting();
        services.AddIdentities(options);
        services.AddApiKeys(options);
        services.AddSessions(options);
        services.AddSelfService();
        services.AddFlowHooks(options);
        services.AddCourier(options);
        services.AddUi(options);
        services.AddOAuth2();
        services.AddMetrics(http: true);
        services.AddTracing(options);
        configureServices?.Invoke(services);

        var app = builder.Build();
        var tlsLogger = app.Services.GetRequiredService<ILogger<ListenerTls>>();
        if (publicTls is not null) publicTls.Logger = tlsLogger;
        if (adminTls is not null) adminTls.Logger = tlsLogger;
        // Outermost, so the metrics see the status the client gets.
        app.UseMiddleware<HttpMetricsMiddleware>();
        // Before authentication and routing, so preflights are answered there, and CORS headers reach error answers.
        app.UseMiddleware<CorsMiddleware>();
        CorsMiddleware.WarnAboutWildcardWithCredentials(app.Services.GetRequiredService<ILogger<CorsMiddleware>>(), options);
        app.UseMiddleware<ErrorEnvelopeMiddleware>();
        app.UseMiddleware<ListenerMiddleware>();
        app.UseRouting();
        MapEndpoints(app, options);
        return app;
    }

    /// <summary>One log format for every host: single-line console output with UTC timestamps at <c>log.level</c>.</summary>
    public static void ConfigureLogging(ILoggingBuilder logging, GatehouseOptions options)
    {
        ArgumentNullException.ThrowIfNull(logging);
        ArgumentNullException.ThrowIfNull(options);
        logging.ClearProviders();
        if (string.Equals(options.Log.Format, "json", StringComparison.Ordinal))
        {
            // One JSON object per line (.NET's JSON console formatter): Timestamp, EventId, LogLevel, Category, Message and
            // State (the message's named values), for log collectors that parse JSON.
            logging.AddJsonConsole(o =>
            {
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
                o.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false };
            });
        }
        else
        {
            logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ "; o.UseUtcTimestamp = true; });
        }
        logging.SetMinimumLevel(LogLevelFrom(options.Log.Level));
        // EF logs every failed command, including the unique violations that are expected 409s; Gatehouse logs real failures itself.
        logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Critical);
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
        HostStartFailureFilter.Apply(logging);
    }

    private static void MapEndpoints(WebApplication app, GatehouseOptions options)
    {
        var auth = app.Services.GetRequiredService<AdminAuthorization>();

        var root = app.MapGroup("");
        root.MapHealth();
        root.MapSchemas();
        root.MapSelfServicePublic();
        root.MapWebAuthnPublic();
        SelfService.Strategies.Oidc.OidcCallback.Map(root);
        root.MapFedcmPublic();
        root.MapGet(SelfService.Flows.SessionTokenExchange.Route, (HttpContext http, SelfService.Flows.SessionTokenExchange exchange) => exchange.ExchangeAsync(http));
        root.LimitFlowCreationOn(
            SelfServiceEndpoints.LoginBrowser, SelfServiceEndpoints.LoginApi, SelfServiceEndpoints.RegistrationBrowser, SelfServiceEndpoints.RegistrationApi,
            SelfServiceEndpoints.SettingsBrowser, SelfServiceEndpoints.SettingsApi, SelfServiceEndpoints.VerificationBrowser, SelfServiceEndpoints.VerificationApi,
            SelfServiceEndpoints.RecoveryBrowser, SelfServiceEndpoints.RecoveryApi,
            // FedCM hands out nonces and, on a token, makes a login flow: both count as flow creation.
            FedcmEndpoints.Parameters, FedcmEndpoints.Token);
        root.MapSelfServiceErrors();
        root.MapSessionsPublic();
        // Kratos forwards every error of the browser logout routes to the error UI (selfservice/flow/logout/handler.go).
        root.ForwardErrorsToUiOn(LogoutEndpoints.BrowserLogout, LogoutEndpoints.Logout);
        root.MapUi(options);
        root.MapOAuth2Public();

        var admin = app.MapGroup("/admin");
        admin.MapHealth();
        admin.MapSchemas();

        var adminApi = admin.MapGroup("").AddEndpointFilter(auth.FilterAsync);
        adminApi.MapIdentitiesAdmin();
        adminApi.MapSessionsAdmin();
        adminApi.MapSelfServiceAdmin();
        adminApi.MapCourierAdmin();
        adminApi.MapOAuth2Admin();
        adminApi.MapMetrics();
        adminApi.MapConfigRevision();
    }

    private static IServiceCollection AddIdentities(this IServiceCollection services, GatehouseOptions options)
    {
        var publicBase = options.Serve.Public.BaseUrl ?? $"http://127.0.0.1:{options.Serve.Public.Port}/";
        services.TryAddSingleton(sp => new IdentityJson(id => IdentityJson.SchemaUrl(publicBase, id), sp.GetRequiredService<CredentialKinds>()));
        services.TryAddScoped<CredentialImport>();
        services.TryAddSingleton<CredentialKinds>();
        services.TryAddScoped<IdentityManager>();
        services.TryAddScoped<ConflictingIdentities>();
        services.TryAddScoped<IdentityList>();
        services.TryAddScoped<IdentityBatch>();
        return services;
    }

    private static IServiceCollection AddApiKeys(this IServiceCollection services, GatehouseOptions options)
    {
        services.TryAddScoped<ApiKeyService>();
        services.TryAddSingleton(new AdminAuthorization(options.Serve.Admin.RequireApiKey ?? !options.Dev));
        return services;
    }

    internal static void Listen(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions k, ListenerOptions listener, ListenerTls? tls, bool admin)
    {
        var host = listener.Host;
        var port = listener.Port;
        Action<Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions> configure = listen =>
        {
            if (tls is not null)
            {
                listen.UseHttps(new Microsoft.AspNetCore.Server.Kestrel.Https.TlsHandshakeCallbackOptions
                {
                    OnConnection = _ => ValueTask.FromResult(tls.ServerOptions()),
                });
            }
        };
        if (UnixSockets.PathOf(host) is { } socket)
        {
            k.ListenUnixSocket(socket, listen =>
            {
                // A socket has no port to tell the listeners apart by: its connections carry the mark.
                if (admin) listen.Use(next => connection => { connection.Items[ListenerPorts.AdminConnection] = ListenerPorts.AdminConnection; return next(connection); });
                configure(listen);
            });
        }
        else if (string.IsNullOrEmpty(host) || host is "0.0.0.0" or "*") k.ListenAnyIP(port, configure);
        else if (host == "localhost") k.ListenLocalhost(port, configure);
        else if (IPAddress.TryParse(host.Trim('[', ']'), out var ip)) k.Listen(ip, port, configure);
        else
        {
            foreach (var address in Dns.GetHostAddresses(host)) k.Listen(address, port, configure);
        }
    }

    private static LogLevel LogLevelFrom(string level) => level.ToLowerInvariant() switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "info" => LogLevel.Information,
        "warn" or "warning" => LogLevel.Warning,
        "error" => LogLevel.Error,
        "fatal" or "panic" => LogLevel.Critical,
        _ => LogLevel.Information,
    };
}
