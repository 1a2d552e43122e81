using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace OxiVec.ClusterTests.Infrastructure;

/// <summary>Process signals (by process id, with <c>kill</c>), free loopback ports and the repository's root.</summary>
public static class Os
{
    /// <summary>Sends <paramref name="signal"/> (<c>TERM</c>, <c>STOP</c>, <c>CONT</c>) to process <paramref name="pid"/>.</summary>
    public static async Task SignalAsync(int pid, string signal)
    {
        using Process kill = Process.Start("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    /// <summary>
    /// Stops <paramref name="process"/>: SIGTERM, then SIGKILL when it has not ended within <paramref name="grace"/>
    /// (an etcd member without quorum may ignore SIGTERM), then waits for it.
    /// </summary>
    public static async Task StopAsync(Process process, TimeSpan grace)
    {
        if (process.HasExited)
        {
            return;
        }

        await SignalAsync(process.Id, "TERM");
        using var deadline = new CancellationTokenSource(grace);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync(process);
        }
    }

    /// <summary>SIGKILLs <paramref name="process"/> (and its children) and waits for it.</summary>
    public static async Task KillAsync(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        await process.WaitForExitAsync();
    }

    /// <summary><paramref name="count"/> distinct free TCP ports on 127.0.0.1 (held together while chosen, then released).</summary>
    public static int[] FreePorts(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
            }

            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }

    /// <summary>The repository's root (the folder holding OxiVec.slnx).</summary>
    public static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OxiVec.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No OxiVec.slnx above {AppContext.BaseDirectory}.");
    }
}
