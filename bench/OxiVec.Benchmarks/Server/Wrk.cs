using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace OxiVec.Benchmarks.Server;

/// <summary>What one wrk run measured (its own figures, parsed from its output).</summary>
/// <param name="PerSecond">wrk's <c>Requests/sec</c>.</param>
/// <param name="P50Ms">The 50 % line of its latency distribution, in milliseconds.</param>
/// <param name="P99Ms">The 99 % line, in milliseconds.</param>
/// <param name="SocketErrors">Connect, read, write errors and timeouts together (0 when wrk printed none).</param>
/// <param name="Requests">The requests it completed (<c>N requests in T</c>).</param>
internal sealed record WrkResult(double PerSecond, double P50Ms, double P99Ms, long SocketErrors, long Requests)
{
    /// <summary>The server process's CPU time (user + system) over the run per request, in µs; null when not read.</summary>
    public double? ServerCpuUs { get; init; }
}

/// <summary>
/// wrk (Debian's package, installed by bench/scripts/install-wrk.sh) POSTing query bodies from a generated Lua
/// script to the server over loopback; when wrk is not on the PATH the full verb runs that script first, and skips
/// its cell (saying why) when wrk is still missing.
/// </summary>
internal static partial class Wrk
{
    /// <summary>wrk's path, or null when it is not installed.</summary>
    public static string? Find() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "wrk"))
            .FirstOrDefault(File.Exists);

    /// <summary>
    /// Runs bench/scripts/install-wrk.sh (Debian's package through apt-get; needs root or sudo) and returns wrk's path,
    /// or null when the script is missing or failed (its output is passed to <paramref name="say"/>). The full verb calls
    /// it when wrk is not on the PATH, so a fresh machine gets the reference row; --quick (the CI smoke run) does not.
    /// </summary>
    public static string? Install(Action<string> say)
    {
        ArgumentNullException.ThrowIfNull(say);
        string? root = Store.BenchCommon.FindRepositoryRoot();
        string? installer = root is null ? null : Path.Combine(root, "bench", "scripts", "install-wrk.sh");
        if (installer is null || !File.Exists(installer))
        {
            say("wrk is not installed and bench/scripts/install-wrk.sh was not found");
            return null;
        }

        say($"wrk is not installed: running {installer}");
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(installer);
        using Process process = Process.Start(start)
            ?? throw new InvalidOperationException($"could not start bash {installer}");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            say("install-wrk.sh did not finish within 5 minutes (killed)");
            return null;
        }

        foreach (string line in (output.Result + errors.Result).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(3))
        {
            say(line);
        }

        return process.ExitCode == 0 ? Find() : null;
    }

    /// <summary>A Lua script that POSTs <paramref name="bodies"/> in turn (JSON) to <paramref name="path"/>.</summary>
    public static string Script(string path, IReadOnlyList<byte[]> bodies)
    {
        ArgumentNullException.ThrowIfNull(bodies);
        var sb = new StringBuilder();
        sb.Append("wrk.method = \"POST\"\n");
        sb.Append("wrk.headers[\"Content-Type\"] = \"application/json\"\n");
        sb.Append("local bodies = {\n");
        foreach (byte[] body in bodies)
        {
            string json = Encoding.UTF8.GetString(body);
            if (json.Contains("]=]", StringComparison.Ordinal))
            {
                throw new ArgumentException("a body holds ']=]', which would end its Lua long string", nameof(bodies));
            }

            sb.Append("[=[").Append(json).Append("]=],\n");
        }

        sb.Append("}\n");
        sb.Append("local i = 0\n");
        sb.Append("request = function()\n");
        sb.Append("  i = i % #bodies + 1\n");
        sb.Append("  return wrk.format(nil, \"").Append(path).Append("\", nil, bodies[i])\n");
        sb.Append("end\n");
        return sb.ToString();
    }

    /// <summary>Runs wrk for <paramref name="seconds"/> with <paramref name="connections"/> connections.</summary>
    /// <exception cref="InvalidOperationException">wrk failed, or the server answered other than 2xx/3xx.</exception>
    public static WrkResult Run(string wrk, Uri url, string scriptPath, int threads, int connections, int seconds)
    {
        var start = new ProcessStartInfo(wrk)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "--latency", "--timeout", "30s", "-t", threads.ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture), "-d", seconds.ToString(CultureInfo.InvariantCulture) + "s", "-s", scriptPath, url.ToString() })
        {
            start.ArgumentList.Add(a);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {wrk}");
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromSeconds(seconds + 60)))
        {
            process.Kill();
            process.WaitForExit();
            throw new InvalidOperationException($"wrk did not finish within {seconds + 60} s");
        }

        return process.ExitCode == 0
            ? Parse(output)
            : throw new InvalidOperationException($"wrk exited with {process.ExitCode}: {stderr.Result.Trim()} {output.Trim()}");
    }

    /// <summary>The figures of wrk's <c>--latency</c> output.</summary>
    /// <exception cref="FormatException">A figure is missing, or the server answered other than 2xx/3xx.</exception>
    public static WrkResult Parse(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        Match non2xx = Non2xxLine().Match(output);
        if (non2xx.Success)
        {
            throw new FormatException($"wrk saw {non2xx.Groups[1].Value} answers other than 2xx/3xx: the server failed requests");
        }

        Match rate = RateLine().Match(output);
        Match p50 = PercentileLine("50").Match(output);
        Match p99 = PercentileLine("99").Match(output);
        Match requests = RequestsLine().Match(output);
        if (!rate.Success || !p50.Success || !p99.Success || !requests.Success)
        {
            throw new FormatException($"wrk's output lacks Requests/sec, the request count or the 50 %/99 % latency lines (was --latency given?): {output.Trim()}");
        }

        Match errors = SocketErrorsLine().Match(output);
        long socketErrors = errors.Success ? errors.Groups.Values.Skip(1).Sum(g => long.Parse(g.Value, CultureInfo.InvariantCulture)) : 0;
        return new WrkResult(
            double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture), Millis(p50), Millis(p99), socketErrors, long.Parse(requests.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    private static double Millis(Match m)
    {
        double value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch
        {
            "us" => value / 1000,
            "ms" => value,
            "s" => value * 1000,
            "m" => value * 60_000,
            var unit => throw new FormatException($"wrk latency unit '{unit}' is not us, ms, s or m"),
        };
    }

    private static Regex PercentileLine(string percent) =>
        new($@"^\s*{percent}%\s+([0-9.]+)(us|ms|s|m)\s*$", RegexOptions.Multiline | RegexOptions.CultureInvariant);

    [GeneratedRegex(@"^Requests/sec:\s+([0-9.]+)\s*$", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex RateLine();

    [GeneratedRegex(@"^\s*([0-9]+) requests in ", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex RequestsLine();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+([0-9]+)", RegexOptions.CultureInvariant)]
    private static partial Regex Non2xxLine();

    [GeneratedRegex(@"Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)", RegexOptions.CultureInvariant)]
    private static partial Regex SocketErrorsLine();
}
