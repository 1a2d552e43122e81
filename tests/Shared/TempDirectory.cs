namespace OxiVec.Testing;

/// <summary>
/// A fresh directory under the system temp folder (<c>oxivec-tests/&lt;guid&gt;</c>), deleted on
/// dispose. One source file, compiled into each test project that links it.
/// </summary>
public sealed class TempDirectory : IDisposable
{
    /// <summary>Creates the directory.</summary>
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "oxivec-tests", Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(Path);
    }

    /// <summary>The directory's full path.</summary>
    public string Path { get; }

    /// <summary>The path of <paramref name="name"/> inside the directory (not created).</summary>
    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Deletes the directory and everything in it.</summary>
    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A failed test may still hold a file open (or leave a child process holding one); the OS cleans the
            // temp folder eventually.
        }
        catch (UnauthorizedAccessException)
        {
            // Likewise: a test that changed a file's permissions to inject a fault and failed before restoring them.
        }
    }
}
