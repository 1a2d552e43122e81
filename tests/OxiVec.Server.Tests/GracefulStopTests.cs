using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OxiVec.Hosting;

namespace OxiVec.Server.Tests;

public sealed class GracefulStopTests
{
    [Fact]
    public async Task HostedServices_TheServerStopsBeforeTheDatabase()
    {
        await using ServerFixture server = await ServerFixture.StartAsync();
        var services = server.Services.GetServices<IHostedService>().ToList();
        int database = services.FindIndex(s => s is OxiVecDatabaseHost);
        int web = services.FindIndex(s => s.GetType().Name == "GenericWebHostService");
        Assert.True(database >= 0 && web > database, $"hosted services: {string.Join(", ", services.Select(s => s.GetType().Name))}"); // stopped in reverse order
    }

    [Fact]
    public async Task Stop_LetsAnInFlightRequestFinishAgainstTheOpenDatabase_ThenCheckpoints()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void MapHeld(WebApplication app) => app.MapGet("/test/held", async (OxiVecDatabaseHost host) =>
        {
            entered.TrySetResult();
            await release.Task;
            return Results.Text(host.Database.GetWalMetrics().LastLsn.ToString(System.Globalization.CultureInfo.InvariantCulture));
        });

        ServerFixture server = await ServerFixture.StartAsync(configure: MapHeld);
        try
        {
            server.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => release.TrySetResult());
            Task<HttpResponseMessage> inFlight = server.Client.GetAsync("/test/held");
            await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Task stopping = server.StopServerAsync(); // the client stays usable: the request in flight must finish

            using HttpResponseMessage response = await inFlight.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await stopping.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.NotEmpty(Directory.GetDirectories(Path.Combine(server.Directory, "checkpoints")));
        }
        finally
        {
            release.TrySetResult();
            await server.DisposeAsync();
        }
    }
}
