using System.ComponentModel;
using System.Diagnostics;

namespace OxiVec.Samples.SemanticSearch.Corpus;

/// <summary>
/// The package descriptions of this machine's Debian package lists, one per package name, sorted by name.
/// </summary>
/// <param name="Source">Where the packages came from, as shown to the user (e.g. <c>apt-cache dumpavail</c>).</param>
/// <param name="StanzasRead">Packages read before deduplication (several versions or architectures of one name).</param>
/// <param name="Packages">One package per name (the first stanza read for it), sorted by name (ordinal).</param>
internal sealed record DebianCorpus(string Source, int StanzasRead, IReadOnlyList<DebianPackage> Packages)
{
    /// <summary>dpkg's database of installed packages: on every Debian system, also where apt has no lists.</summary>
    public const string DpkgStatusPath = "/var/lib/dpkg/status";

    /// <summary>
    /// Loads the corpus: <paramref name="file"/> when given, else <c>apt-cache dumpavail</c> (every package apt
    /// knows; empty on a machine whose apt lists were never downloaded), else <see cref="DpkgStatusPath"/> (the
    /// installed packages only).
    /// </summary>
    /// <param name="file">A file in Debian control format (a <c>Packages</c> list or a dpkg status file), or null.</param>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <exception cref="FileNotFoundException">None of the sources exists.</exception>
    /// <exception cref="InvalidDataException">The chosen source has no package with a description.</exception>
    public static async Task<DebianCorpus> LoadAsync(string? file, CancellationToken cancellationToken)
    {
        if (file != null)
        {
            using var reader = new StreamReader(file);
            return Require(FromReader(reader, file));
        }

        DebianCorpus? apt = await TryAptCacheAsync(cancellationToken).ConfigureAwait(false);
        if (apt is { Packages.Count: > 0 })
        {
            return apt;
        }

        if (!File.Exists(DpkgStatusPath))
        {
            throw new FileNotFoundException(
                $"No corpus: apt-cache dumpavail listed no package and {DpkgStatusPath} does not exist; pass --corpus FILE (a Debian Packages list).",
                DpkgStatusPath);
        }

        using var status = new StreamReader(DpkgStatusPath);
        return Require(FromReader(status, $"{DpkgStatusPath} (installed packages only: apt-cache dumpavail gave none)"));
    }

    /// <summary>Reads control-format text into a corpus, keeping the first stanza of each package name.</summary>
    /// <param name="reader">The control text.</param>
    /// <param name="source">Names the input in the corpus and in error messages.</param>
    public static DebianCorpus FromReader(TextReader reader, string source)
    {
        var byName = new Dictionary<string, DebianPackage>(StringComparer.Ordinal);
        int read = 0;
        foreach (DebianPackage package in DebianControlReader.ReadPackages(reader, source))
        {
            read++;
            byName.TryAdd(package.Name, package);
        }

        DebianPackage[] packages = [.. byName.Values.OrderBy(p => p.Name, StringComparer.Ordinal)];
        return new DebianCorpus(source, read, packages);
    }

    /// <summary>
    /// Splits the corpus into the packages to index and held-out packages whose descriptions serve as recall
    /// queries (never indexed, so no query finds itself). Both are spread evenly over the sorted names, so a
    /// limited run samples every part of the archive rather than the packages whose names start with a digit or an a.
    /// </summary>
    /// <param name="limit">The most packages to index, or null for all the rest.</param>
    /// <param name="queryCount">Packages held out as queries; fewer than the corpus has.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative count, or no package left to index.</exception>
    public (IReadOnlyList<DebianPackage> Indexed, IReadOnlyList<DebianPackage> Queries) Split(int? limit, int queryCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(queryCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(queryCount, Packages.Count);
        if (limit is { } l)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(l, nameof(limit));
        }

        HashSet<int> held = [.. EvenlySpread(Packages.Count, queryCount)];
        DebianPackage[] queries = [.. held.Order().Select(i => Packages[i])];
        DebianPackage[] rest = [.. Packages.Where((_, i) => !held.Contains(i))];
        int indexed = Math.Min(limit ?? rest.Length, rest.Length);
        DebianPackage[] chosen = [.. EvenlySpread(rest.Length, indexed).Select(i => rest[i])];
        return (chosen, queries);
    }

    /// <summary><paramref name="count"/> distinct indexes in [0, <paramref name="length"/>), evenly spaced, ascending.</summary>
    private static IEnumerable<int> EvenlySpread(int length, int count) =>
        Enumerable.Range(0, count).Select(i => (int)((long)i * length / count));

    private static DebianCorpus Require(DebianCorpus corpus) =>
        corpus.Packages.Count > 0 ? corpus : throw new InvalidDataException($"{corpus.Source}: no package with a description.");

    private static async Task<DebianCorpus?> TryAptCacheAsync(CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("apt-cache", "dumpavail")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process? process;
        try
        {
            process = Process.Start(start);
        }
        catch (Win32Exception)
        {
            return null; // no apt-cache on this machine
        }

        if (process is null)
        {
            return null;
        }

        using (process)
        {
            try
            {
                Task<string> errors = process.StandardError.ReadToEndAsync(cancellationToken);
                DebianCorpus corpus = FromReader(process.StandardOutput, "apt-cache dumpavail");
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                await errors.ConfigureAwait(false);
                return process.ExitCode == 0 ? corpus : null;
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill();
                    await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
    }
}
