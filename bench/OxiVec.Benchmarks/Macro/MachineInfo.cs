using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;

namespace OxiVec.Benchmarks.Macro;

/// <summary>What the numbers were measured on: CPU, memory, the disk under the work directory, runtime, OS, date.</summary>
internal sealed record MachineInfo(
    int Cores,
    string CpuModel,
    string Memory,
    string WorkDir,
    string FileSystem,
    string Device,
    string MountPoint,
    string MountOptions,
    string DiskSize,
    string DeviceQueue,
    string Runtime,
    string Gc,
    string Os,
    string Kernel,
    DateTimeOffset Date)
{
    private const string Unknown = "unknown";

    public static MachineInfo Collect(string workDir)
    {
        (string fs, string device, string mount, string options) = FindMount(workDir);
        string size = Unknown;
        try
        {
            var drive = new DriveInfo(mount == Unknown ? workDir : mount);
            size = string.Create(
                CultureInfo.InvariantCulture,
                $"{drive.TotalSize / 1e9:F0} GB total, {drive.AvailableFreeSpace / 1e9:F0} GB free");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Leave it unknown: the size is context, not a measurement.
        }

        return new MachineInfo(
            Environment.ProcessorCount,
            ReadCpuModel(),
            ReadMemory(),
            workDir,
            fs,
            device,
            mount,
            options,
            size,
            DescribeDeviceQueue(device),
            $"{RuntimeInformation.FrameworkDescription} ({RuntimeInformation.RuntimeIdentifier}, {RuntimeInformation.ProcessArchitecture})",
            $"{(GCSettings.IsServerGC ? "server" : "workstation")}, {GCSettings.LatencyMode}",
            ReadOsName(),
            RuntimeInformation.OSDescription,
            DateTimeOffset.UtcNow);
    }

    private static string ReadCpuModel()
    {
        string? line = ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line is null ? RuntimeInformation.ProcessArchitecture.ToString() : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
    }

    private static string ReadMemory()
    {
        string? line = ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        if (line is null)
        {
            return Unknown;
        }

        string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length >= 2 && long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long kib)
            ? string.Create(CultureInfo.InvariantCulture, $"{kib / 1024.0 / 1024.0:F1} GiB (MemTotal, /proc/meminfo)")
            : Unknown;
    }

    private static string ReadOsName()
    {
        string? line = ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal));
        return line is null ? RuntimeInformation.OSDescription : line["PRETTY_NAME=".Length..].Trim('"');
    }

    /// <summary>The /proc/mounts entry whose mount point is the longest prefix of <paramref name="path"/>.</summary>
    private static (string Fs, string Device, string Mount, string Options) FindMount(string path)
    {
        string full = Path.GetFullPath(path);
        (string, string, string, string) best = (Unknown, Unknown, Unknown, Unknown);
        int bestLength = -1;
        foreach (string line in ReadLines("/proc/mounts"))
        {
            string[] f = line.Split(' ');
            if (f.Length < 4)
            {
                continue;
            }

            string mount = f[1].Replace("\\040", " ", StringComparison.Ordinal);
            bool covers = mount == "/" || full == mount || full.StartsWith(mount + "/", StringComparison.Ordinal);
            if (covers && mount.Length >= bestLength)
            {
                best = (f[2], f[0], mount, f[3]);
                bestLength = mount.Length;
            }
        }

        return best;
    }

    /// <summary>rotational / write cache / scheduler of the block device, from /sys/block (Linux).</summary>
    private static string DescribeDeviceQueue(string device)
    {
        if (!device.StartsWith("/dev/", StringComparison.Ordinal))
        {
            return Unknown;
        }

        string name = Path.GetFileName(device);
        string queue = $"/sys/class/block/{name}/queue";
        if (!Directory.Exists(queue))
        {
            // A partition (vda1): its queue is the parent disk's.
            string parent = Path.GetFileName(Path.GetDirectoryName(ResolveLink($"/sys/class/block/{name}")) ?? "");
            queue = $"/sys/class/block/{parent}/queue";
        }

        string Read(string file) => ReadLines(Path.Combine(queue, file)).FirstOrDefault()?.Trim() ?? Unknown;
        string driver = name.StartsWith("vd", StringComparison.Ordinal) ? "virtio block device, " : "";
        return $"{driver}rotational={Read("rotational")}, write_cache={Read("write_cache")}, scheduler={Read("scheduler")}";
    }

    private static string ResolveLink(string path)
    {
        try
        {
            return new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
        }
        catch (IOException)
        {
            return path;
        }
    }

    private static string[] ReadLines(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllLines(path) : [];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
