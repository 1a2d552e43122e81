using System.CommandLine;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
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
            // OXIVEC_API_KEY also reaches the server through the environment configuration source (OxiVecServer.ApiKeyVariable).
            Set($"{ServerOptions.SectionName}:{nameof(ServerOptions.ApiKey)}", parse.GetValue(apiKeyOption));
            Set($"{ServerOptions.SectionName}:{nameof(ServerOptions.ReadOnlyApiKey)}", parse.GetValue(readOnlyKeyOption));
            Set($"{OxiVecOptions.SectionName}:{nameof(OxiVecOptions.SyncIntervalMs)}", parse.GetValue(syncOption)?.ToString(CultureInfo.InvariantCulture));
            if (parse.GetValue(anonymousOption))
            {
                Set($"{ServerOptions.SectionName}:{nameof(ServerOptions.AllowAnonymous)}", "true");
            }

            string? configFile = parse.GetValue(configOption);
            if (configFile is not null && !File.Exists(configFile))
            {
                throw new CliException($"--config: the file '{configFile}' does not exist.");
            }

            WebApplication built;
            try
            {
                built = OxiVecServer.Build([], configFile, overrides);
            }
            catch (Exception ex) when (ex is InvalidOperationException or InvalidDataException or FormatException)
            {
                // Reading the configuration failed: a file that is not JSON, a value of the wrong type.
                throw new CliException($"bad configuration: {ex.Message}", ex);
            }

            await using WebApplication app = built;
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ValidationFailures(ex) is { Count: > 0 } failures)
            {
                throw new CliException($"bad configuration: {string.Join(" ", failures)}", ex);
            }
            catch (IOException ex)
            {
                // Kestrel could not listen: the address is in use or not this machine's.
                throw new CliException($"cannot listen: {ex.Message}", ex);
            }

            foreach (string address in OxiVecServer.Addresses(app))
            {
                Console.Out.WriteLine($"oxivec serve: listening on {address}");
            }

            Console.Out.Flush();

            // SIGTERM and Ctrl+C reach both System.CommandLine (which cancels cancellationToken) and the host's console
            // lifetime (which stops the application); either way the host stops: Kestrel stops accepting and lets
            // in-flight requests finish, then the database host checkpoints and closes.
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The failures of the options validation that stopped the start (one exception, or several aggregated); empty for any other exception.</summary>
    private static List<string> ValidationFailures(Exception ex) => ex switch
    {
        OptionsValidationException validation => [.. validation.Failures],
        InvalidOperationException { Message: var message } when message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal) => [message],
        AggregateException aggregate when aggregate.InnerExceptions.All(e => e is OptionsValidationException) =>
            [.. aggregate.InnerExceptions.SelectMany(e => ((OptionsValidationException)e).Failures)],
        _ => [],
    };
}
