using OxiVec.Wal;

namespace OxiVec.Tests.Wal;

/// <summary>
/// The real file system's WAL files: a preallocated segment is written through a shared mapping (on Linux), whose
/// stores are in the page cache at once (visible to every other reader of the file, so a process crash keeps them)
/// and never reach past the file's end.
/// </summary>
public sealed class FileSystemWalFileTests
{
    [Fact]
    public void PreallocatedSegment_IsWrittenThroughTheMapping_AnotherHandleReadsTheBytesBeforeAnyFsync()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the mapping is Linux only
        }

        using var temp = new TempDirectory();
        var storage = new FileSystemWalStorage(temp.Path, mapSegments: true);
        byte[] record = [.. Enumerable.Range(1, 300).Select(i => (byte)i)];
        using var file = (FileSystemWalFile)storage.Create("seg.wal", 1 << 20);

        file.Write(4096 - 100, record); // across a page boundary

        Assert.True(file.IsMapped);
        using IWalFile reader = storage.Open("seg.wal", writable: false);
        var back = new byte[record.Length];
        Assert.Equal(record.Length, reader.Read(4096 - 100, back));
        Assert.Equal(record, back);
        Assert.Equal(1 << 20, reader.Length); // the mapping never changes the size
    }

    [Fact]
    public void PreallocatedSegment_WithoutMemoryMappedSegments_IsWrittenWithPwrite_AndReadsBack()
    {
        using var temp = new TempDirectory();
        var storage = new FileSystemWalStorage(temp.Path); // the storage maps only when told (WalConfig.MemoryMappedSegments)
        byte[] record = [.. Enumerable.Range(1, 300).Select(i => (byte)i)];
        using var file = (FileSystemWalFile)storage.Create("seg.wal", 1 << 20);

        file.Write(4096 - 100, record);

        Assert.False(file.IsMapped);
        using IWalFile reader = storage.Open("seg.wal", writable: false);
        var back = new byte[record.Length];
        Assert.Equal(record.Length, reader.Read(4096 - 100, back));
        Assert.Equal(record, back);
    }

    [Fact]
    public void MappedSegment_SmallCommitsAreCopiedIntoTheMapping_AWriteOfManyPagesUsesPwrite_BothReadBack()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the mapping is Linux only
        }

        using var temp = new TempDirectory();
        var storage = new FileSystemWalStorage(temp.Path, mapSegments: true);
        byte[] small = [.. Enumerable.Range(1, 608).Select(i => (byte)i)];
        byte[] large = [.. Enumerable.Range(0, FileSystemWalFile.MaxMappedWriteBytes + 1).Select(i => (byte)(i * 7))];
        using var file = (FileSystemWalFile)storage.Create("seg.wal", 1 << 20);

        file.Write(0, small);
        Assert.True(file.LastWriteMapped);
        file.Write(small.Length, large);
        Assert.False(file.LastWriteMapped); // many fresh pages: one pwrite beats a page fault per page
        file.Write(small.Length + large.Length, small);
        Assert.True(file.LastWriteMapped);

        using IWalFile reader = storage.Open("seg.wal", writable: false);
        var back = new byte[(2 * small.Length) + large.Length];
        Assert.Equal(back.Length, reader.Read(0, back));
        Assert.Equal([.. small, .. large, .. small], back);
    }

    [Fact]
    public void MappingDefault_FollowsTheSyncPolicy_AndAnExplicitSettingWins()
    {
        Assert.True(new WalConfig().MemoryMappedSegments); // SyncIntervalMs = 1000
        Assert.True(WalConfig.Balanced.MemoryMappedSegments);
        Assert.True(WalConfig.HighThroughput.MemoryMappedSegments);
        Assert.False(WalConfig.MaximumDurability.MemoryMappedSegments); // an fsync per commit: pwrite
        Assert.False((WalConfig.Default with { SyncIntervalMs = 0 }).MemoryMappedSegments);
        Assert.True((WalConfig.MaximumDurability with { SyncIntervalMs = 100 }).MemoryMappedSegments);

        Assert.True((WalConfig.MaximumDurability with { MemoryMappedSegments = true }).MemoryMappedSegments);
        Assert.False((WalConfig.HighThroughput with { MemoryMappedSegments = false }).MemoryMappedSegments);
        Assert.True((WalConfig.Default with { MemoryMappedSegments = true, SyncIntervalMs = 0 }).MemoryMappedSegments);
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1000, true)]
    public void WalOpenedWithTheDefault_MapsItsActiveSegmentOnlyUnderAnIntervalPolicy(int syncIntervalMs, bool mapped)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the mapping is Linux only
        }

        using var temp = new TempDirectory();
        var config = WalTestHelpers.Config(temp.Path) with { SyncIntervalMs = syncIntervalMs };
        using (WalManager wal = WalManager.Open(config))
        {
            wal.Append(new WalEntry.Insert("c", "a", new float[] { 1, 2 }, default));
            Assert.Equal(mapped, wal.ActiveSegmentIsMapped);
        }

        using var reopened = WalManager.Open(config);
        Assert.Single(reopened.ReadRecords());
    }

    [Fact]
    public void MappedSegment_CutToItsRecords_IsUnmappedAndKeepsThem_LaterWritesGoThroughWrite()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the mapping is Linux only
        }

        using var temp = new TempDirectory();
        var storage = new FileSystemWalStorage(temp.Path, mapSegments: true);
        using (var file = (FileSystemWalFile)storage.Create("seg.wal", 1 << 20))
        {
            file.Write(0, new byte[] { 1, 2, 3, 4 });
            Assert.True(file.IsMapped);

            file.SetLength(4); // a seal: a store past the new end would fault, so the mapping goes first
            Assert.False(file.IsMapped);
            file.Write(4, new byte[] { 5, 6 }); // extends the file like write() does
            file.Sync();
        }

        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6 }, File.ReadAllBytes(Path.Combine(temp.Path, "seg.wal")));
    }

    [Fact]
    public void MappedSegment_MemoryAt_StoresAreWrites_AnotherHandleReadsThem_AnUnmappedFileRefuses()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the mapping is Linux only
        }

        using var temp = new TempDirectory();
        var storage = new FileSystemWalStorage(temp.Path, mapSegments: true);
        using (var file = (FileSystemWalFile)storage.Create("seg.wal", 1 << 20))
        {
            Assert.True(file.WritesInMemory(4096 - 8, 16));
            Span<byte> bytes = file.MemoryAt(4096 - 8, 16); // across a page boundary
            for (int i = 0; i < bytes.Length; i++)
            {
                bytes[i] = (byte)(i + 1);
            }

            using IWalFile reader = storage.Open("seg.wal", writable: false);
            var back = new byte[16];
            Assert.Equal(16, reader.Read(4096 - 8, back));
            Assert.Equal(Enumerable.Range(1, 16).Select(i => (byte)i), back);
            Assert.Throws<NotSupportedException>(() => file.MemoryAt((1 << 20) - 8, 16)); // past the end of the mapping
        }

        var unmapped = new FileSystemWalStorage(temp.Path);
        using var plain = (FileSystemWalFile)unmapped.Create("plain.wal", 1 << 20);
        Assert.False(plain.WritesInMemory(0, 16));
        Assert.Throws<NotSupportedException>(() => plain.MemoryAt(0, 16));
    }

    [Fact]
    public void MappedSegment_Prefault_TakesTheStoresPageFaults_ChangesNoByte_AndAfterTheCutAndTheCloseDoesNothing()
    {
        if (!OperatingSystem.IsLinux() || Environment.OSVersion.Version < new Version(5, 14))
        {
            return; // the mapping is Linux only; MADV_POPULATE_WRITE came with 5.14
        }

        using var temp = new TempDirectory();
        var storage = new FileSystemWalStorage(temp.Path, mapSegments: true);
        const int Pages = 128;
        int page = Environment.SystemPageSize;
        var file = (FileSystemWalFile)storage.Create("seg.wal", 1 << 20);
        file.Write(0, new byte[] { 1, 2, 3, 4 });

        file.Prefault(4, Pages * page); // from inside the first page, as the writer asks
        long faultsBefore = WalTestHelpers.ThreadMinorFaults();
        for (int p = 1; p <= Pages; p++)
        {
            file.Write((long)p * page, new byte[] { (byte)p }); // one store into each prefaulted page
        }

        long faults = WalTestHelpers.ThreadMinorFaults() - faultsBefore;
        Assert.True(faults < Pages / 4, $"{faults} page faults for {Pages} stores into prefaulted pages");

        file.SetLength((long)(Pages + 1) * page);
        file.Prefault(0, 1 << 20); // unmapped by the cut: nothing to do
        file.Dispose();
        file.Prefault(0, 1 << 20); // closed: nothing to do

        byte[] bytes = File.ReadAllBytes(Path.Combine(temp.Path, "seg.wal"));
        var expected = new byte[(Pages + 1) * page];
        new byte[] { 1, 2, 3, 4 }.CopyTo(expected, 0);
        for (int p = 1; p <= Pages; p++)
        {
            expected[p * page] = (byte)p;
        }

        Assert.Equal(expected, bytes); // the prefault wrote nothing: zeros wherever no store went
    }

    [Fact]
    public void MappedSegment_Sync_UnmapsThePagesStoredBeforeIt_KeepsEveryByte_AndLaterStoresGoOn()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the mapping is Linux only
        }

        using var temp = new TempDirectory();
        var storage = new FileSystemWalStorage(temp.Path, mapSegments: true);
        string path = Path.Combine(temp.Path, "seg.wal");
        var expected = new byte[4 << 20];
        Random.Shared.NextBytes(expected.AsSpan(0, 3 << 20));
        using var file = (FileSystemWalFile)storage.Create("seg.wal", expected.Length);

        const int Chunk = 3000; // records of 3,000 bytes, across page boundaries
        for (int offset = 0; offset < 2 << 20; offset += Chunk)
        {
            file.Write(offset, expected.AsSpan(offset, Math.Min(Chunk, (2 << 20) - offset)));
        }

        Assert.True(file.IsMapped);
        Assert.True(MappedKiB(path) >= 2 << 10, $"{MappedKiB(path)} KiB of the segment mapped after 2 MiB of stores");

        file.Sync();

        // Unmapped up to the last store's possible start (8 KiB and its page); the bytes stay in the file.
        long left = MappedKiB(path);
        Assert.True(left <= 16, $"{left} KiB of the segment still mapped after the fsync");
        for (int offset = 2 << 20; offset < 3 << 20; offset += Chunk)
        {
            file.Write(offset, expected.AsSpan(offset, Math.Min(Chunk, (3 << 20) - offset))); // stores go on past the release
        }

        file.Sync();
        using IWalFile reader = storage.Open("seg.wal", writable: false);
        var back = new byte[expected.Length];
        Assert.Equal(expected.Length, reader.Read(0, back));
        Assert.Equal(expected, back);
    }

    /// <summary>How many KiB of the mappings of <paramref name="path"/> are resident in this process (Rss in /proc/self/smaps).</summary>
    private static long MappedKiB(string path)
    {
        long total = 0;
        bool inFile = false;
        foreach (string line in File.ReadLines("/proc/self/smaps"))
        {
            if (IsMappingHeader(line))
            {
                inFile = line.EndsWith(path, StringComparison.Ordinal);
            }
            else if (inFile && line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                total += long.Parse(line["Rss:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return total;
    }

    /// <summary>A line of smaps that starts a mapping ("start-end perms offset dev inode path"), not one of its fields ("Name:  value").</summary>
    private static bool IsMappingHeader(string line)
    {
        int dash = line.IndexOf('-', StringComparison.Ordinal);
        int space = line.IndexOf(' ', StringComparison.Ordinal);
        return dash > 0 && space > dash && long.TryParse(line.AsSpan(0, dash), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out _);
    }

    [Fact]
    public void SmallFile_IsNeverMapped()
    {
        using var temp = new TempDirectory();
        var storage = new FileSystemWalStorage(temp.Path, mapSegments: true);
        using var file = (FileSystemWalFile)storage.Create("control", FileSystemWalFile.MinMappedLength - 1);

        file.Write(0, new byte[] { 9 });

        Assert.False(file.IsMapped);
        Assert.Equal(9, File.ReadAllBytes(Path.Combine(temp.Path, "control"))[0]);
    }

    [Fact]
    public void IntervalPolicy_AcknowledgedRecord_IsInTheSegmentFileForAnyReader_BeforeTheIntervalFsync()
    {
        using var temp = new TempDirectory();
        var config = WalTestHelpers.Config(temp.Path) with { SyncIntervalMs = 3_600_000 };
        using var wal = WalManager.Open(config);
        var entry = new WalEntry.Insert("docs", "marker-7f3a", new float[] { 1, 2, 3 }, Array.Empty<byte>());

        wal.Append(entry);

        Assert.Equal(0, wal.DurableLsn); // no fsync yet: only the page cache has it, which a process crash keeps
        string segment = Directory.GetFiles(temp.Path, "*.wal").Single();
        using var stream = new FileStream(segment, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        Assert.True(bytes.AsSpan().IndexOf("marker-7f3a"u8) > 0, "the acknowledged record is not in the segment file");
    }

    [Fact]
    public void IntervalPolicy_SteadyAppends_ReuseTheirBuffersAndEpochs_AllocatingUnder200BytesPerWrite()
    {
        using var temp = new TempDirectory();
        var config = WalTestHelpers.Config(temp.Path, segmentSize: 16 << 20) with { SyncIntervalMs = 3_600_000, MaxWalSize = 64 << 20 };
        using var wal = WalManager.Open(config);
        WalEntry[] entries = [new WalEntry.Insert("docs", "v", new float[128], Array.Empty<byte>())];
        for (int i = 0; i < 2_000; i++)
        {
            wal.WaitAcknowledged(wal.AppendUnacknowledged(entries, transactional: false), entries, 0); // warm-up: JIT, pools
        }

        const int Writes = 20_000;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Writes; i++)
        {
            wal.WaitAcknowledged(wal.AppendUnacknowledged(entries, transactional: false), entries, 0);
        }

        double perWrite = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Writes;
        Assert.True(perWrite < 200, $"{perWrite:F0} bytes allocated per write (a pending buffer, a write epoch or the checkpoint-lag state per write is back)");
    }
}
