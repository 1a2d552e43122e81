using System.Runtime.CompilerServices;

namespace OxiVec.Indexing;

/// <summary>
/// A set of slots cleared in O(1): each slot holds the generation it was last visited in, and
/// <see cref="Reset"/> starts a new generation. Owned by one thread at a time (rented from a pool).
/// </summary>
internal sealed class VisitedSet
{
    private int[] _marks = [];
    private int _generation;

    /// <summary>Starts an empty set able to hold slots below <paramref name="capacity"/>.</summary>
    public void Reset(int capacity)
    {
        if (_marks.Length < capacity)
        {
            _marks = new int[Math.Max(capacity, _marks.Length * 2)];
            _generation = 0;
        }

        if (_generation == int.MaxValue)
        {
            Array.Clear(_marks);
            _generation = 0;
        }

        _generation++;
    }

    /// <summary>Adds <paramref name="slot"/>; <see langword="false"/> when it was already in the set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryVisit(int slot)
    {
        ref int mark = ref _marks[slot];
        if (mark == _generation)
        {
            return false;
        }

        mark = _generation;
        return true;
    }
}
