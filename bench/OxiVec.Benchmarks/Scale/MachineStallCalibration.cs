using System.Diagnostics;
using OxiVec.Storage.Checkpoints;

namespace OxiVec.Benchmarks.Scale;

/// <summary>
/// What a thread spinning on the clock saw in one calibration phase: every gap of at least
/// <see cref="MachineStallCalibration.GapThresholdMs"/> between two consecutive clock readings, split by whether the
/// thread had a context switch over it. A gap with a switch is the scheduler's doing (another thread ran, or the thread
/// was suspended); a gap without one is time the thread lost while the kernel still saw it running: interrupt work, or
/// its virtual CPU stopped by the hypervisor (the guest's clocks run on and charge that time to the thread as CPU).
/// </summary>
/// <param name="Seconds">How long the phase spun.</param>
/// <param name="Iterations">Clock readings taken (each with the thread's counters).</param>
/// <param name="QuietGapsMs">Gaps with no context switch (voluntary or involuntary), ms, ascending.</param>
/// <param name="QuietCpuMs">The thread CPU time charged over the quiet gaps, ms, in total.</param>
/// <param name="SwitchedGapsMs">Gaps with a context switch, ms, ascending.</param>
internal sealed record SpinGaps(double Seconds, long Iterations, double[] QuietGapsMs, double QuietCpuMs, double[] SwitchedGapsMs)
{
    public double LongestQuietMs => QuietGapsMs.Length == 0 ? 0 : QuietGapsMs[^1];

    public double LongestSwitchedMs => SwitchedGapsMs.Length == 0 ? 0 : SwitchedGapsMs[^1];

    /// <summary>Quiet gaps longer than <paramref name="ms"/>.</summary>
    public int QuietOver(double ms) => QuietGapsMs.Count(g => g > ms);

    /// <summary>The time lost in quiet gaps, ms (all of them, from <see cref="MachineStallCalibration.GapThresholdMs"/> up).</summary>
    public double QuietMs => QuietGapsMs.Sum();
}

/// <summary>The calibration before the stall rows: the machine's own stalls idle, and while a checkpoint-sized file is written.</summary>
/// <param name="Idle">Spinning with nothing else running in the process.</param>
/// <param name="Writing">Spinning while another thread wrote files the way a checkpoint writes them.</param>
/// <param name="FileBytes">The size of each file written (about a row's checkpoint).</param>
/// <param name="Files">Files written during <paramref name="Writing"/>.</param>
/// <param name="WriteSeconds">How long the writing took (the phase's length).</param>
internal sealed record MachineCalibration(SpinGaps Idle, SpinGaps Writing, long FileBytes, int Files, double WriteSeconds)
{
    public double WrittenMb => (double)FileBytes * Files / 1e6;
}

/// <summary>
/// Measures the machine's own stalls before the stall rows (see <see cref="SpinGaps"/>): a thread spins reading the
/// clock and its own context switch counts (<c>getrusage(RUSAGE_THREAD)</c>, as the writer does around each insert)
/// for a while idle, then for as long while another thread writes files of a checkpoint's size into the data
/// directory exactly as a checkpoint writes its files (<see cref="CheckpointFiles.WriteFile"/>: the same write-back
/// windows and the same fsyncs), one after the other. The probe allocates nothing while it spins.
/// </summary>
internal static class MachineStallCalibration
{
    /// <summary>The shortest gap recorded.</summary>
    public const double GapThresholdMs = 1;

    // Quiet and switched gaps recorded per phase at most (preallocated: the probe must not allocate while it spins).
    private const int MaxGaps = 1 << 16;

    /// <summary>Both phases, each about <paramref name="seconds"/> long; the files go to <paramref name="dataDir"/> and are deleted after.</summary>
    public static MachineCalibration Run(string dataDir, long fileBytes, double seconds)
    {
        Directory.CreateDirectory(dataDir);
        SpinGaps idle = Spin(() => false, seconds);
        int done = 0, files = 0;
        Exception? error = null;
        var paths = new List<string>();
        var writer = new Thread(() =>
        {
            try
            {
                var random = new Random(23);
                byte[] block = new byte[1 << 20];
                random.NextBytes(block);
                long start = Stopwatch.GetTimestamp();
                do
                {
                    string path = Path.Combine(dataDir, $"calibration-{files}.bin");
                    paths.Add(path);
                    _ = CheckpointFiles.WriteFile(FileSystemCheckpointStorage.Instance, path, s =>
                    {
                        for (long left = fileBytes; left > 0; left -= block.Length)
                        {
                            s.Write(block, 0, (int)Math.Min(block.Length, left));
                        }
                    });
                    FileSystemCheckpointStorage.Instance.SyncDirectory(dataDir);
                    files++;
                }
                while (Stopwatch.GetElapsedTime(start).TotalSeconds < seconds);
            }
#pragma warning disable CA1031 // Reported after the join.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                error = ex;
            }
            finally
            {
                Volatile.Write(ref done, 1);
            }
        })
        { Name = "stall-calibration-writer" };
        long t0 = Stopwatch.GetTimestamp();
        writer.Start();
        SpinGaps writing = Spin(() => Volatile.Read(ref done) != 0, double.PositiveInfinity);
        double writeSeconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        writer.Join();
        foreach (string path in paths)
        {
            File.Delete(path);
        }

        if (error is not null)
        {
            throw new IOException("the calibration's writer failed: " + error.Message, error);
        }

        return new MachineCalibration(idle, writing, fileBytes, files, writeSeconds);
    }

    /// <summary>
    /// Spins until <paramref name="stop"/> says so or <paramref name="seconds"/> have passed. A gap between readings k-1 and k
    /// is quiet when the counters did not move from reading k-2 to reading k: a switch just after reading k-1's clock
    /// but before its counters would otherwise be charged to the gap before.
    /// </summary>
    private static SpinGaps Spin(Func<bool> stop, double seconds)
    {
        double[] quiet = new double[MaxGaps], switched = new double[MaxGaps];
        int quietCount = 0, switchedCount = 0;
        long threshold = (long)(Stopwatch.Frequency * GapThresholdMs / 1000);
        long start = Stopwatch.GetTimestamp();
        long end = double.IsInfinity(seconds) ? long.MaxValue : start + (long)(seconds * Stopwatch.Frequency);
        ThreadUsage.Reading older = ThreadUsage.Now(), old = older;
        long previous = Stopwatch.GetTimestamp(), iterations = 0, quietCpuMicros = 0;
        while (true)
        {
            long t = Stopwatch.GetTimestamp();
            ThreadUsage.Reading u = ThreadUsage.Now();
            iterations++;
            if (t - previous >= threshold)
            {
                double ms = ScaleCommon.Ms(t - previous);
                if (u.Voluntary == older.Voluntary && u.Involuntary == older.Involuntary)
                {
                    if (quietCount < MaxGaps)
                    {
                        quiet[quietCount++] = ms;
                    }

                    quietCpuMicros += u.CpuMicros - old.CpuMicros;
                }
                else if (switchedCount < MaxGaps)
                {
                    switched[switchedCount++] = ms;
                }
            }

            older = old;
            old = u;
            previous = t;
            if (t >= end || ((iterations & 63) == 0 && stop()))
            {
                break;
            }
        }

        double[] q = quiet[..quietCount], s = switched[..switchedCount];
        Array.Sort(q);
        Array.Sort(s);
        return new SpinGaps(ScaleCommon.Ms(Stopwatch.GetTimestamp() - start) / 1000, iterations, q, quietCpuMicros / 1000.0, s);
    }
}
