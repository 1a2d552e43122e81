using System.Runtime.InteropServices;
using OxiVec.Internal;

namespace OxiVec.Tests.Internal;

public sealed class DurableFilesTests
{
    [Fact]
    public void ODirectory_ForThisProcessArchitecture_IsLinuxsValueThere()
    {
        Architecture arch = RuntimeInformation.ProcessArchitecture;
        int expected = arch switch
        {
            Architecture.X64 or Architecture.X86 => 0x10000,  // asm-generic/fcntl.h as x86 uses it
            Architecture.Arm64 or Architecture.Arm => 0x4000, // arch/arm{,64}/include/uapi/asm/fcntl.h (0x10000 is O_DIRECT there)
            _ => -1,
        };
        if (expected < 0)
        {
            Assert.Throws<PlatformNotSupportedException>(() => DurableFiles.ODirectory(arch));
        }
        else
        {
            Assert.Equal(expected, DurableFiles.ODirectory(arch));
        }

        Assert.Equal(0x4000, DurableFiles.ODirectory(Architecture.Arm64));
        Assert.Equal(0x10000, DurableFiles.ODirectory(Architecture.X64));
    }

    [Fact]
    public void ODirectory_UnknownLinuxArchitecture_RefusesNamingIt()
    {
        var ex = Assert.Throws<PlatformNotSupportedException>(() => DurableFiles.ODirectory(Architecture.S390x));
        Assert.Contains("S390x", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateDirectoryDurably_MissingAncestors_CreatesEachAndSyncsThem()
    {
        using var temp = new TempDirectory();
        string nested = Path.Combine(temp.Path, "data", "wal");

        DurableFiles.CreateDirectoryDurably(nested);
        DurableFiles.CreateDirectoryDurably(nested); // existing: nothing to do
        DurableFiles.SyncDirectory(nested);           // the flag value opens a directory on this machine

        Assert.True(Directory.Exists(nested));
    }
}
