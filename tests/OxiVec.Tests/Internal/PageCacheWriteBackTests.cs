using System.IO.Pipes;
using Microsoft.Win32.SafeHandles;
using OxiVec.Internal;

namespace OxiVec.Tests.Internal;

public sealed class PageCacheWriteBackTests
{
    private const int Window = 512 << 10;

    [Fact]
    public void WriteWindow_RegularFile_WritesBackEachWindowOnLinuxOnly_AndTheBytesAreIntact()
    {
        using var temp = new TempDirectory();
        string path = temp.Sub("file");
        byte[] data = new byte[(3 * Window) + 1234];
        new Random(7).NextBytes(data);
        using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            for (int from = 0; from < data.Length; from += Window)
            {
                int to = Math.Min(data.Length, from + Window);
                file.Write(data, from, to - from);
                // Linux: sync_file_range on a regular file (ext4, xfs, tmpfs all take it); elsewhere there is none.
                Assert.Equal(OperatingSystem.IsLinux(), PageCacheWriteBack.WriteWindow(file.SafeFileHandle, from, to));
            }

            file.Flush(flushToDisk: true);
        }

        Assert.Equal(data, File.ReadAllBytes(path));
    }

    [Fact]
    public void WriteWindow_Pipe_ReturnsFalseSoTheCallerFallsBackToFsync()
    {
        using var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        using var handle = new SafeFileHandle(pipe.SafePipeHandle.DangerousGetHandle(), ownsHandle: false);
        Assert.False(PageCacheWriteBack.WriteWindow(handle, 0, Window)); // ESPIPE on Linux: not an I/O error
        Assert.False(PageCacheWriteBack.WriteWindow(handle, Window, 2 * Window));
    }

    [Fact]
    public void WriteWindow_RangeThatEndsBeforeItStarts_IsRefused()
    {
        using var temp = new TempDirectory();
        using var file = new FileStream(temp.Sub("file"), FileMode.CreateNew, FileAccess.Write);
        Assert.Throws<ArgumentOutOfRangeException>(() => PageCacheWriteBack.WriteWindow(file.SafeFileHandle, 10, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => PageCacheWriteBack.WriteWindow(file.SafeFileHandle, -1, 5));
    }
}
