using OxiVec.Storage.Checkpoints;
using OxiVec.Tests.Fakes;

namespace OxiVec.Tests.Storage;

/// <summary>
/// The simulated disk's checkpoint directory keeps what a real file system keeps at a power loss, so that the
/// simulated torture can fail when a checkpoint skips an fsync.
/// </summary>
public sealed class SimulatedCheckpointStorageTests
{
    private const string Root = "/sim/checkpoints";

    [Fact]
    public void CheckpointWrittenWhole_SurvivesAPowerLossAndReadsBack()
    {
        var disk = new SimulatedDisk();
        CheckpointFiles.Write(Root, 1, 7, DateTimeOffset.UnixEpoch, [], disk);

        SimulatedDisk after = disk.Crash(new Random(1), CrashMode.DropUnsynced);
        CheckpointEntry entry = Assert.Single(CheckpointFiles.List(Root, storage: after));
        Assert.Equal(7, CheckpointFiles.Read(entry, after).CoveredLsn);
    }

    [Fact]
    public void RenameNotFollowedByParentFsync_IsLostAtAPowerLoss()
    {
        var disk = new SimulatedDisk();
        SimulatedDisk storage = disk;
        storage.CreateDirectory(Root + "/a.tmp");
        using (Stream file = storage.CreateFile(Root + "/a.tmp/MANIFEST"))
        {
            file.Write([1, 2, 3]);
            storage.SyncFile(file);
        }

        storage.SyncDirectory(Root + "/a.tmp");
        storage.SyncDirectory(Root);
        storage.MoveDirectory(Root + "/a.tmp", Root + "/a");

        SimulatedDisk after = disk.Crash(new Random(1), CrashMode.DropUnsynced);
        Assert.Equal(new[] { Root + "/a.tmp" }, after.ListDirectories(Root));
        Assert.True(after.FileExists(Root + "/a.tmp/MANIFEST"));
    }

    [Fact]
    public void FileNotFsynced_LosesItsBytesAtAPowerLoss()
    {
        var disk = new SimulatedDisk();
        SimulatedDisk storage = disk;
        storage.CreateDirectory(Root + "/a");
        using (Stream file = storage.CreateFile(Root + "/a/MANIFEST"))
        {
            file.Write([1, 2, 3]);
        }

        storage.SyncDirectory(Root + "/a");
        storage.SyncDirectory(Root);

        SimulatedDisk after = disk.Crash(new Random(1), CrashMode.DropUnsynced);
        using Stream read = after.OpenRead(Root + "/a/MANIFEST");
        Assert.Equal(0, read.Length);
    }

    [Fact]
    public void DeletionNotFollowedByParentFsync_ComesBackAtAPowerLoss()
    {
        var disk = new SimulatedDisk();
        SimulatedDisk storage = disk;
        storage.CreateDirectory(Root + "/a");
        storage.SyncDirectory(Root);
        storage.DeleteDirectory(Root + "/a");
        Assert.False(storage.DirectoryExists(Root + "/a"));

        SimulatedDisk after = disk.Crash(new Random(1), CrashMode.DropUnsynced);
        Assert.True(after.DirectoryExists(Root + "/a"));
    }
}
