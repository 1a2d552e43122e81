using OxiVec.Wal;

namespace OxiVec.Recovery;

/// <summary>
/// Finds, in records read in LSN order, the frozen clock windows (see <see cref="FrozenClockWindow"/>): each opens at
/// a <see cref="WalClockStep"/> record and runs over the records stamped with its frozen timestamp. A further step
/// inside a window with the same frozen timestamp widens it to the earlier wall-clock reading.
/// </summary>
internal sealed class FrozenClockWindows
{
    private readonly List<FrozenClockWindow> _windows = [];
    private FrozenClockWindow? _open;

    /// <summary>The windows found so far (the open one included).</summary>
    public IReadOnlyList<FrozenClockWindow> Windows => _open is null ? _windows : [.. _windows, _open];

    /// <summary>Takes the next record.</summary>
    /// <exception cref="WalCorruptionException">A clock-step record's payload is malformed.</exception>
    public void Add(WalRecord record)
    {
        if (WalClockStep.From(record) is { } step)
        {
            DateTimeOffset wall = WalRecord.FromMicros(step.WallMicros);
            if (_open is not null && _open.FrozenTimestamp == record.Timestamp)
            {
                _open = _open with { ToLsn = record.Lsn, WallClockAtStep = wall < _open.WallClockAtStep ? wall : _open.WallClockAtStep };
                return;
            }

            Close();
            _open = new FrozenClockWindow(record.Lsn, record.Lsn, record.Timestamp, wall);
        }
        else if (_open is not null && record.Timestamp == _open.FrozenTimestamp)
        {
            _open = _open with { ToLsn = record.Lsn };
        }
        else
        {
            Close();
        }
    }

    private void Close()
    {
        if (_open is not null)
        {
            _windows.Add(_open);
            _open = null;
        }
    }
}
