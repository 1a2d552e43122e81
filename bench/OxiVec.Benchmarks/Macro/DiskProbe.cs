using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace OxiVec.Benchmarks.Macro;

/// <summary>One run of a disk probe.</summary>
/// <param name="Rate">MB/s (10^6 bytes) for the bandwidth probe, fdatasyncs per second for the fsync probes.</param>
/// <param name="Count">Bytes written (bandwidth) or fdatasyncs done (fsync probes).</param>
/// <param name="Seconds">Measured time.</param>
/// <param name="Latency">Per-fdatasync latency (fsync probes; pwrite + fdatasync of one block).</param>
internal sealed record ProbeRun(double Rate, long Count, double Seconds, LatencySummary? Latency);

/// <summary>
/// The physical baseline, measured in the same run as the WAL and on the same file system: sequential write
/// bandwidth and the rate of small durable writes (pwrite + fdatasync), the ceiling for commits that each wait
/// for their own fsync.
/// </summary>
internal static class DiskProbe
{
    /// <summary>Block size of the fsync probes: one 4 KiB page per fdatasync.</summary>
    public const int SmallWriteBytes = 4096;

    /// <summary>Block size of the sequential bandwidth probe.</summary>
    public const int SequentialBlockBytes = 1 << 20;

    /// <summary>The WAL's background fsync distance with an interval policy; the second sequential probe syncs as often.</summary>
    public const long WalLikeSyncBytes = 8L << 20;

    /// <summary>Size of the file the fsync probes write into.</summary>
    public const long FsyncFileBytes = 64L << 20;

    /// <summary>
    /// Writes <paramref name="totalBytes"/> to a new file in 1 MiB blocks (pwrite into the page cache), with an
    /// fdatasync every <paramref name="syncEveryBytes"/> (0: none) and one at the end; MB/s over the whole, fdatasyncs
    /// included. Syncing every 8 MiB is what the WAL does with an interval policy (its background fsync).
    /// </summary>
    public static ProbeRun SequentialWrite(string dir, long totalBytes, long syncEveryBytes = 0)
    {
        string path = Path.Combine(dir, "seq-write.probe");
        byte[] block = new byte[SequentialBlockBytes];
        new Random(1).NextBytes(block);
        try
        {
            using SafeFileHandle handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write);
            long start = Stopwatch.GetTimestamp();
            for (long offset = 0; offset < totalBytes; offset += block.Length)
            {
                RandomAccess.Write(handle, block, offset);
                if (syncEveryBytes > 0 && (offset + block.Length) % syncEveryBytes == 0)
                {
                    Native.DataSync(handle);
                }
            }

            Native.DataSync(handle);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            return new ProbeRun(totalBytes / 1e6 / seconds, totalBytes, seconds, null);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// fdatasyncs per second when each overwrites 4 KiB of already written, already synced blocks (a file first
    /// filled with data and fdatasynced): only data goes to the device, no file-system metadata. The best case.
    /// </summary>
    public static ProbeRun FsyncOverwrite(string dir, TimeSpan duration)
    {
        string path = Path.Combine(dir, "fsync-overwrite.probe");
        try
        {
            using SafeFileHandle handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite);
            byte[] fill = new byte[SequentialBlockBytes];
            new Random(2).NextBytes(fill);
            for (long offset = 0; offset < FsyncFileBytes; offset += fill.Length)
            {
                RandomAccess.Write(handle, fill, offset);
            }

            Native.DataSync(handle);
            return SyncLoop(handle, duration, FsyncFileBytes, wrap: true);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// fdatasyncs per second when each writes the next 4 KiB of a file created with a preallocation size
    /// (<see cref="File.OpenHandle"/> with <c>preallocationSize</c>, exactly as the WAL creates its segments: the
    /// file is 64 MiB long at once, its blocks reserved with fallocate but unwritten). Each fdatasync must also
    /// commit the conversion of the newly written extent to "written", a journal commit on ext4. This is the
    /// pattern a WAL append into a fresh segment has.
    /// </summary>
    public static ProbeRun FsyncIntoPreallocated(string dir, TimeSpan duration)
    {
        string path = Path.Combine(dir, "fsync-prealloc.probe");
        try
        {
            using SafeFileHandle handle = File.OpenHandle(
                path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.None, preallocationSize: FsyncFileBytes);
            Native.DataSync(handle);
            return SyncLoop(handle, duration, FsyncFileBytes, wrap: false);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// fdatasyncs per second when each appends 4 KiB at the end of a file without preallocation: each fdatasync
    /// also makes the new file size and block allocation durable.
    /// </summary>
    public static ProbeRun FsyncExtend(string dir, TimeSpan duration)
    {
        string path = Path.Combine(dir, "fsync-extend.probe");
        try
        {
            using SafeFileHandle handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite);
            return SyncLoop(handle, duration, FsyncFileBytes, wrap: false);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static ProbeRun SyncLoop(SafeFileHandle handle, TimeSpan duration, long fileBytes, bool wrap)
    {
        byte[] page = new byte[SmallWriteBytes];
        new Random(3).NextBytes(page);
        var latency = new LatencyBuffer(1 << 14);
        long offset = 0;
        long count = 0;
        long start = Stopwatch.GetTimestamp();
        long deadline = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long now = start;
        while (now < deadline)
        {
            if (offset + SmallWriteBytes > fileBytes)
            {
                if (!wrap)
                {
                    break;
                }

                offset = 0;
            }

            page[0] = (byte)count; // each write changes the data
            long t0 = now;
            RandomAccess.Write(handle, page, offset);
            Native.DataSync(handle);
            now = Stopwatch.GetTimestamp();
            latency.Add(now - t0);
            offset += SmallWriteBytes;
            count++;
        }

        double seconds = (now - start) / (double)Stopwatch.Frequency;
        return new ProbeRun(count / seconds, count, seconds, LatencySummary.Merge([latency]));
    }
}
