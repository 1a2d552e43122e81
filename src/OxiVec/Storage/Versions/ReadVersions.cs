namespace OxiVec.Storage.Versions;

/// <summary>
/// The database-wide published version (the LSN of the last commit applied in full) and the versions readers are
/// reading at. A commit's changes are stamped with its LSN and become visible together when <see cref="Publish"/>
/// advances the version; a reader reads at the version it registered with (<see cref="Enter"/>), so it sees every
/// commit up to it in full and nothing after, in every collection. Storage a reader may still see (a removed or
/// replaced record's slot) is reclaimed only once <see cref="OldestReader"/> has passed the version that retired it.
/// </summary>
/// <remarks>
/// One writer publishes (the apply step). Registration takes a lock held for a dictionary update, never while
/// anything else runs, so a reader never waits for a write.
/// </remarks>
internal sealed class ReadVersions
{
    private readonly Lock _sync = new();
    private readonly Dictionary<long, int> _readers = [];
    private long _published;

    public ReadVersions(long published = 0) => _published = published;

    /// <summary>The version new readers read at.</summary>
    public long Published => Volatile.Read(ref _published);

    /// <summary>Makes everything stamped up to <paramref name="version"/> visible to readers that start from now on.</summary>
    /// <exception cref="InvalidOperationException"><paramref name="version"/> is below the published version.</exception>
    public void Publish(long version)
    {
        if (version < Volatile.Read(ref _published))
        {
            throw new InvalidOperationException($"Version {version} is older than the published version {_published}.");
        }

        Volatile.Write(ref _published, version);
    }

    /// <summary>Registers a reader at the published version and returns it; pair with <see cref="Exit"/>.</summary>
    public long Enter()
    {
        lock (_sync)
        {
            long version = Volatile.Read(ref _published);
            _readers[version] = _readers.GetValueOrDefault(version) + 1;
            return version;
        }
    }

    /// <summary>Registers a reader at <paramref name="version"/>, which the caller knows is still published (the apply step's own readers).</summary>
    public void EnterAt(long version)
    {
        lock (_sync)
        {
            _readers[version] = _readers.GetValueOrDefault(version) + 1;
        }
    }

    /// <summary>Ends a reader registered at <paramref name="version"/>.</summary>
    public void Exit(long version)
    {
        lock (_sync)
        {
            int left = _readers[version] - 1;
            if (left == 0)
            {
                _readers.Remove(version);
            }
            else
            {
                _readers[version] = left;
            }
        }
    }

    /// <summary>
    /// The oldest version a reader reads at, or the published version when none runs: storage retired at a version
    /// no greater than this is seen by no reader now or later.
    /// </summary>
    public long OldestReader
    {
        get
        {
            lock (_sync)
            {
                long oldest = Volatile.Read(ref _published);
                foreach (long version in _readers.Keys)
                {
                    oldest = Math.Min(oldest, version);
                }

                return oldest;
            }
        }
    }
}
