using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Config;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Outbound;
using Gatehouse.Identities;
using Gatehouse.Jsonnet;
using Gatehouse.SelfService.Flows;
using Gatehouse.SelfService.Hooks.WebHooks;

namespace Gatehouse.SelfService.Strategies.Password;

/// <summary>
/// Kratos's password migration hook (<c>selfservice.methods.password.config.migrate_hook</c>,
/// <c>selfservice/hook/password_migration_hook.go</c>): an identity imported with
/// <c>credentials.password.config.use_password_migration_hook: true</c> and no hash signs in by asking the old system.
/// The hook is called with <c>{"identifier", "password"}</c> (or the <c>body</c> template's output, whose <c>ctx</c> also
/// has <c>flow</c>, the request and <c>identity</c>); a 200 answering <c>{"status": "password_match"}</c> (read up to
/// 1 KB) accepts the password, which is then hashed and stored, so the hook is not asked again for that identity; a 403
/// or any other 200 is wrong credentials; anything else, or no answer, is a 502 and changes nothing.
/// </summary>
public sealed partial class PasswordMigrationHook(
    GatehouseOptions options,
    WebHookSender sender,
    WebHookTemplates templates,
    FlowService flows,
    IdentityJson identityJson,
    ILogger<PasswordMigrationHook> logger)
{
    /// <summary>Where the config is, for error messages and start-up checks.</summary>
    public const string ConfigPath = "selfservice.methods.password.config.migrate_hook";

    /// <summary>The hook's request config, read once per options tree (checked at start-up by the hook validator).</summary>
    public static WebHookConfig? ConfigOf(GatehouseOptions options)
    {
        var hook = options.Selfservice.Methods.Password.Config.MigrateHook;
        return hook.Config is null ? null : Parsed.GetValue(hook, h => WebHookConfig.Read(h.Config, ConfigPath));
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<PasswordMigrateHookOptions, WebHookConfig> Parsed = [];

    /// <summary>Whether a stored password credential asks for the hook: no hash, and the import's flag.</summary>
    public static bool Requested(JsonNode? config)
    {
        var hash = config?["hashed_password"] is JsonValue h && h.GetValueKind() == JsonValueKind.String ? h.GetValue<string>() : "";
        return hash.Length == 0 && config?["use_password_migration_hook"] is JsonValue v && v.GetValueKind() == JsonValueKind.True;
    }

    /// <summary>True when the old system accepts <paramref name="password"/>; false for wrong credentials.</summary>
    public async Task<bool> VerifyAsync(HttpContext http, SelfServiceFlow flow, Identity identity, string identifier, string password, CancellationToken ct)
    {
        var hook = options.Selfservice.Methods.Password.Config.MigrateHook;
        if (!hook.Enabled || ConfigOf(options) is not { } cfg)
            throw new GatehouseError(500, "Password migration hook is not enabled but password migration is requested.", message: "Invalid configuration");
        var requestId = Guid.NewGuid().ToString();
        string body;
        if (cfg.Body is null)
        {
            body = new JsonObject { ["identifier"] = identifier, ["password"] = password }.ToJsonString();
        }
        else
        {
            var ctx = new JsonObject { ["flow"] = flows.ToJson(flow) };
            WebHook.AddRequest(ctx, http.Request, cfg.HeaderAllowlistWithin(options));
            ctx["identity"] = identityJson.ToNode(identity, IdentityView.AdminWrite);
            ctx["password"] = password;
            ctx["identifier"] = identifier;
            try
            {
                var program = await templates.GetAsync(cfg.Body, ct);
                body = program.EvaluateMinified(WebHookTemplates.Limits(ctx.ToJsonString()), ct);
            }
            catch (Exception e) when (e is JsonnetException or IOException or HttpRequestException or InvalidOperationException or FormatException or UnauthorizedAccessException or OperationCanceledException && !ct.IsCancellationRequested)
            {
                // The template's error may quote ctx (the password): the log gets only where it failed.
                LogTemplateFailed(logger, cfg.Url, requestId, e.GetType().Name);
                throw new GatehouseError(500, WebHook.TemplateFailedReason, WebHook.ErrorId, details: new JsonObject { ["web_hook_request_id"] = requestId });
            }
        }

        WebHookAnswer answer;
        try
        {
            answer = await sender.SendAsync(cfg, body, requestId, http.TraceIdentifier, ct, maxAnswerBytes: 1024);
        }
        catch (WebHookCallFailed)
        {
            // The sender logged the cause; the user sees Kratos's generic reason.
            throw new GatehouseError(502, "A third-party upstream service could not be reached. Please try again later.", message: "calling the password migration hook failed");
        }
        switch (answer.Status)
        {
            case 200:
                return Matched(answer.Body);
            case 403:
                return false;
            default:
                LogUnexpected(logger, cfg.Url, requestId, answer.Status);
                throw new GatehouseError(502, "A third-party upstream service responded improperly. Please try again later.", message: $"password migration hook failed with status code {answer.Status}");
        }
    }

    private static bool Matched(byte[] body)
    {
        try
        {
            return JsonNode.Parse(body) is JsonObject o && o["status"] is JsonValue s && s.GetValueKind() == JsonValueKind.String && s.GetValue<string>() == "password_match";
        }
        catch (JsonException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "password migration hook {Url} (request {RequestId}): body template failed ({Error})")]
    private static partial void LogTemplateFailed(ILogger logger, LoggedUrl url, string requestId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "password migration hook {Url} (request {RequestId}) answered {Status}, expected 200 or 403")]
    private static partial void LogUnexpected(ILogger logger, LoggedUrl url, string requestId, int status);
}
