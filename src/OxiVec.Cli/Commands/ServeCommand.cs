using System.CommandLine;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using OxiVec.Hosting;
using OxiVec.Hosting.Server;

namespace OxiVec.Cli.Commands;

/// <summary>
/// <c>oxivec serve --data DIR [--http HOST:PORT] [--api-key KEY] [--read-only-api-key KEY] [--sync-interval-ms N] [--config FILE]</c>:
/// runs the network server (Qdrant-compatible REST) over one long-lived database until SIGTERM or Ctrl+C, then
/// finishes in-flight requests, checkpoints and closes.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        Option<string?> dataOption = new("--data") { Description = "The data directory (created when missing). Or OxiVec:DataDirectory in --config.", HelpName = "DIR" };
        Option<string?> httpOption = new("--http") { Description = "Where to listen, HOST:PORT (default 127.0.0.1:6333; port 0 picks a free port).", HelpName = "HOST:PORT" };
        Option<string?> apiKeyOption = new("--api-key") { Description = "The key that may read and write (also OXIVEC_API_KEY).", HelpName = "KEY" };
        Option<string?> readOnlyKeyOption = new("--read-only-api-key") { Description = "A key that may only read and search.", HelpName = "KEY" };
        Option<int?> syncOption = new("--sync-interval-ms") { Description = "WAL sync interval: 0 fsyncs every commit before it is acknowledged (default 1000).", HelpName = "N" };
        Option<string?> configOption = new("--config") { Description = "A JSON configuration file (sections OxiVec and OxiVec:Server; see docs/server.md).", HelpName = "FILE" };
        Option<bool> anonymousOption = new("--allow-anonymous") { Description = "Serve without any API key on an address other than loopback." };
        var command = new Command("serve", "Run the OxiVec server: Qdrant-compatible REST over one database, until SIGTERM or Ctrl+C (then it finishes in-flight requests, checkpoints and closes).")
        {
            dataOption, httpOption, apiKeyOption, readOnlyKeyOption, syncOption, configOption, anonymousOption,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string?>();
            void Set(string key, string? value)
            {
                if (value is not null)
                {
                    overrides[key] = value;
                }
            }

            Set($"{OxiVecOptions.SectionName}:{nameof(OxiVecOptions.DataDirectory)}", parse.GetValue(dataOption));
            Set($"{ServerOptions.SectionName}:{nameof(ServerOptions.Http)}", parse.GetValue(httpOption));
            Set($"{ServerOptions.SectionName}:{nameof(ServerOptions.ApiKey)}", parse.GetValue(apiKeyOption) ?? Environment.GetEnvironmentVariable("OXIVEC_API_KEY"));
            Set($"{ServerOptions.SectionName}:{nameof(ServerOptions.ReadOnlyApiKey)}", parse.GetValue(readOnlyKeyOption));
            Set($"{OxiVecOptions.SectionName}:{nameof(OxiVecOptions.SyncIntervalMs)}", parse.GetValue(syncOption)?.ToString(CultureInfo.InvariantCulture));
            if (parse.GetValue(anonymousOption))
            {
                Set($"{ServerOptions.SectionName}:{nameof(ServerOptions.AllowAnonymous)}", "true");
            }

            await using WebApplication app = OxiVecServer.Build([], parse.GetValue(configOption), overrides);
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            foreach (string address in OxiVecServer.Addresses(app))
            {
                Console.Out.WriteLine($"oxivec serve: listening on {address}");
            }

            Console.Out.Flush();
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
