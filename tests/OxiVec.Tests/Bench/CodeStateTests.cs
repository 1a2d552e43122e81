using System.Diagnostics;
using OxiVec.Benchmarks.Trust;

namespace OxiVec.Tests.Bench;

public class CodeStateTests
{
    [Fact]
    public void Detect_CleanCommit_NamesTheCommit_AndHarnessOutputsDoNotDirtyIt()
    {
        using var temp = new TempDirectory();
        string head = CommittedRepository(temp.Path);
        Directory.CreateDirectory(temp.Sub("bench/results"));
        File.WriteAllText(temp.Sub("bench/results/wal.md"), "a report written by an earlier verb");
        File.WriteAllText(temp.Sub("README.md"), "regenerated table");

        CodeState state = CodeState.Detect(temp.Path);

        Assert.Equal(head, state.Commit);
        Assert.False(state.Dirty);
        state.EnsureMeasurable(allowDirty: false);
    }

    [Fact]
    public void Detect_UncommittedSource_IsDirty_AndRefusedUnlessAllowed()
    {
        using var temp = new TempDirectory();
        CommittedRepository(temp.Path);
        File.WriteAllText(temp.Sub("src.cs"), "changed");
        File.WriteAllText(temp.Sub("new.cs"), "untracked");

        CodeState state = CodeState.Detect(temp.Path);

        Assert.True(state.Dirty);
        Assert.Contains("src.cs", state.Changes, StringComparison.Ordinal);
        Assert.Contains("new.cs", state.Changes, StringComparison.Ordinal);
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => state.EnsureMeasurable(allowDirty: false));
        Assert.Contains("--allow-dirty", e.Message, StringComparison.Ordinal);
        state.EnsureMeasurable(allowDirty: true);
        Assert.Contains("DIRTY TREE", state.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void Detect_NotARepository_SaysCommitUnknown_AndDoesNotRefuse()
    {
        using var temp = new TempDirectory();
        CodeState state = CodeState.Detect(temp.Path);
        Assert.Null(state.Commit);
        Assert.Null(state.Dirty);
        Assert.Contains("commit unknown", state.Describe(), StringComparison.Ordinal);
        state.EnsureMeasurable(allowDirty: false);

        Assert.Null(CodeState.Detect(null).Commit);
    }

    private static string CommittedRepository(string dir)
    {
        Git(dir, "init", "-q");
        File.WriteAllText(Path.Combine(dir, "src.cs"), "original");
        File.WriteAllText(Path.Combine(dir, "README.md"), "table");
        Directory.CreateDirectory(Path.Combine(dir, "bench", "results"));
        File.WriteAllText(Path.Combine(dir, "bench", "results", "wal.md"), "old report");
        Git(dir, "add", "-A");
        Git(dir, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", "commit", "-q", "-m", "c");
        return Git(dir, "rev-parse", "HEAD");
    }

    private static string Git(string dir, params string[] args)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        using Process p = Process.Start(start)!;
        string output = p.StandardOutput.ReadToEnd();
        string error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"git {string.Join(' ', args)}: {error}");
        return output.Trim();
    }
}
