using System.ComponentModel;
using System.Diagnostics;

namespace OxiVec.Benchmarks.Trust;

/// <summary>
/// The code a benchmark measured: the commit checked out (<c>git rev-parse HEAD</c>) and whether the tree had
/// uncommitted changes. The harness's own outputs (<c>bench/results/</c>, <c>README.md</c>) do not count as
/// changes: writing one report must not make the next verb of the same run refuse.
/// </summary>
/// <param name="Commit">The full commit id, or null when it cannot be known (no git, not a repository).</param>
/// <param name="Dirty">Whether tracked or untracked files differ from the commit; null when unknown.</param>
/// <param name="Changes">What differs (the first few paths from <c>git status --porcelain</c>), or why the commit is unknown.</param>
internal sealed record CodeState(string? Commit, bool? Dirty, string Changes)
{
    /// <summary>Paths excluded from the dirty check: what the harness itself writes.</summary>
    public static IReadOnlyList<string> HarnessOutputs { get; } = ["bench/results", "README.md"];

    /// <summary>The short commit id, or "unknown".</summary>
    public string ShortCommit => Commit is null ? "unknown" : Commit[..Math.Min(12, Commit.Length)];

    /// <summary>"clean", "dirty" or "unknown": the value of the report stamp's <c>tree</c> field.</summary>
    public string Tree => Dirty switch { true => "dirty", false => "clean", null => "unknown" };

    /// <summary>One markdown sentence for the top of a report; a dirty tree is stated in bold capitals.</summary>
    public string Describe() => (Commit, Dirty) switch
    {
        (null, _) => $"Code measured: **commit unknown** ({Changes}).",
        (_, true) => $"> **DIRTY TREE**: measured with uncommitted changes on top of commit `{Commit}` ({Changes}); these figures belong to no commit and must not be quoted as its.",
        (_, false) => $"Code measured: commit `{Commit}`, clean tree.",
        _ => $"Code measured: commit `{Commit}`, tree state unknown ({Changes}).",
    };

    /// <summary>
    /// Asks git about the repository at <paramref name="repositoryRoot"/> (null: not found). Never throws for a
    /// missing git or repository: the state is then "commit unknown".
    /// </summary>
    public static CodeState Detect(string? repositoryRoot)
    {
        if (repositoryRoot is null)
        {
            return new CodeState(null, null, "no repository root (a directory holding OxiVec.slnx) above the current or the program's directory");
        }

        (int headExit, string head) = Git(repositoryRoot, "rev-parse", "HEAD");
        if (headExit != 0 || head.Length == 0)
        {
            return new CodeState(null, null, headExit == -1 ? "git is not installed" : $"`git rev-parse HEAD` failed in {repositoryRoot}: {head}");
        }

        string[] statusArgs = ["status", "--porcelain", "--untracked-files=normal", "--", ".", .. HarnessOutputs.Select(p => ":(exclude)" + p)];
        (int statusExit, string status) = Git(repositoryRoot, statusArgs);
        if (statusExit != 0)
        {
            return new CodeState(head, null, $"`git status` failed: {status}");
        }

        string[] changed = status.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string changes = changed.Length == 0
            ? "no changes"
            : $"{changed.Length} path(s) changed: {string.Join(", ", changed.Take(5).Select(l => l.Length > 3 ? l[3..] : l))}{(changed.Length > 5 ? ", …" : "")}";
        return new CodeState(head, changed.Length > 0, changes);
    }

    /// <summary>Throws when the tree is dirty and <paramref name="allowDirty"/> is false; an unknown state is allowed (CI without git).</summary>
    public void EnsureMeasurable(bool allowDirty)
    {
        if (Dirty == true && !allowDirty)
        {
            throw new InvalidOperationException(
                $"the working tree has uncommitted changes ({Changes}): a report must name the code it measured; commit first, or pass --allow-dirty (the report then says \"dirty tree\")");
        }
    }

    private static (int Exit, string Output) Git(string directory, params string[] args)
    {
        var start = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-C");
        start.ArgumentList.Add(directory);
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        try
        {
            using Process process = Process.Start(start) ?? throw new Win32Exception("git did not start");
            Task<string> error = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            // TrimEnd only: porcelain status lines start with a significant space (" M path").
            return (process.ExitCode, process.ExitCode == 0 ? output.TrimEnd() : error.GetAwaiter().GetResult().Trim());
        }
        catch (Win32Exception)
        {
            return (-1, "");
        }
    }
}
