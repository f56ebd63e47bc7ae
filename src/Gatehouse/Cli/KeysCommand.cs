using System.CommandLine;
using System.Globalization;
using Gatehouse.ApiKeys;

namespace Gatehouse.Cli;

internal static class KeysCommand
{
    public static Command Create()
    {
        var name = new Option<string>("--name", "-n") { Description = "A name to recognise the key by.", Required = true };
        var create = new Command("create", "Create an admin API key. The key is printed once, on the last line; only its hash is stored.") { name };
        create.SetAction((parse, ct) => CliContext.Run(async () =>
        {
            await using var services = (ServiceProvider)CliContext.Services(CliContext.Load(parse, dev: false).Options);
            await CliContext.EnsureMigratedAsync(services, ct);
            await using var scope = services.CreateAsyncScope();
            var created = await scope.ServiceProvider.GetRequiredService<ApiKeyService>().CreateAsync(parse.GetValue(name)!, ct);
            Console.WriteLine($"Created API key {created.Key.Id} ({created.Key.Name}). Store it now: it is not shown again.");
            Console.WriteLine(created.Secret);
            return 0;
        }));

        var list = new Command("list", "List admin API keys (never the keys themselves).");
        list.SetAction((parse, ct) => CliContext.Run(async () =>
        {
            await using var services = (ServiceProvider)CliContext.Services(CliContext.Load(parse, dev: false).Options);
            await CliContext.EnsureMigratedAsync(services, ct);
            await using var scope = services.CreateAsyncScope();
            var keys = await scope.ServiceProvider.GetRequiredService<ApiKeyService>().ListAsync(ct);
            Console.WriteLine($"{"ID",-36}  {"NAME",-24}  {"PREFIX",-12}  {"CREATED",-20}  STATUS");
            foreach (var k in keys)
            {
                var status = k.RevokedAt is { } r ? "revoked " + r.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) : "active";
                Console.WriteLine($"{k.Id,-36}  {k.Name,-24}  {k.Prefix + "…",-12}  {k.CreatedAt.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),-20}  {status}");
            }
            return 0;
        }));

        var id = new Argument<string>("ID") { Description = "The id of the key to revoke (see `keys list`)." };
        var revoke = new Command("revoke", "Revoke an admin API key; requests using it fail from then on.") { id };
        revoke.SetAction((parse, ct) => CliContext.Run(async () =>
        {
            if (!Guid.TryParse(parse.GetValue(id), out var keyId)) throw new ArgumentException($"\"{parse.GetValue(id)}\" is not a key id (a UUID from `gatehouse keys list`)");
            await using var services = (ServiceProvider)CliContext.Services(CliContext.Load(parse, dev: false).Options);
            await CliContext.EnsureMigratedAsync(services, ct);
            await using var scope = services.CreateAsyncScope();
            if (!await scope.ServiceProvider.GetRequiredService<ApiKeyService>().RevokeAsync(keyId, ct))
                throw new ArgumentException($"no active API key with id {keyId}");
            Console.WriteLine($"Revoked API key {keyId}.");
            return 0;
        }));

        return new Command("keys", "Manage admin API keys.") { create, list, revoke };
    }
}
