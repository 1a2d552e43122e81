namespace OxiVec.Storage;

/// <summary>A write was sent to a standby: standbys take writes only from their primary's WAL. Nothing was changed.</summary>
public sealed class StandbyWriteException : InvalidOperationException
{
    /// <summary>Creates the exception for the standby in <paramref name="dataDirectory"/> of <paramref name="primaryAddress"/> (null when unknown).</summary>
    public StandbyWriteException(string dataDirectory, string? primaryAddress)
        : base(primaryAddress is null
            ? $"The database in '{dataDirectory}' is a standby: it is read-only and takes writes only from its primary's WAL. Send writes to the primary."
            : $"The database in '{dataDirectory}' is a standby of {primaryAddress}: it is read-only. Send writes to the primary, {primaryAddress}.")
    {
        PrimaryAddress = primaryAddress;
    }

    /// <summary>The primary's address, when the standby knows it.</summary>
    public string? PrimaryAddress { get; }
}
