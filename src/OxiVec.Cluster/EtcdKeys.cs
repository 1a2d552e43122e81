using Google.Protobuf;

namespace OxiVec.Cluster;

/// <summary>The layout of a cluster's keys: <c>{prefix}/{cluster}/leader</c>, <c>/members/{id}</c>, <c>/sync</c>, <c>/switchover</c>, <c>/optime</c>.</summary>
internal sealed class EtcdKeys
{
    public EtcdKeys(string keyPrefix, string clusterName)
    {
        Root = $"{keyPrefix}/{clusterName}/";
        Leader = ByteString.CopyFromUtf8(Root + "leader");
        MembersPrefix = ByteString.CopyFromUtf8(Root + "members/");
        MembersEnd = PrefixEnd(MembersPrefix);
        Sync = ByteString.CopyFromUtf8(Root + "sync");
        Switchover = ByteString.CopyFromUtf8(Root + "switchover");
        Optime = ByteString.CopyFromUtf8(Root + "optime");
        RootPrefix = ByteString.CopyFromUtf8(Root);
        RootEnd = PrefixEnd(RootPrefix);
    }

    /// <summary>The cluster's root, ending with '/'.</summary>
    public string Root { get; }

    public ByteString Leader { get; }

    public ByteString MembersPrefix { get; }

    public ByteString MembersEnd { get; }

    public ByteString Sync { get; }

    public ByteString Switchover { get; }

    public ByteString Optime { get; }

    public ByteString RootPrefix { get; }

    public ByteString RootEnd { get; }

    public ByteString Member(string nodeId) => ByteString.CopyFromUtf8(Root + "members/" + nodeId);

    /// <summary>What a key of this cluster is, for the watch.</summary>
    public ClusterChangeKind? Classify(ByteString key, bool deleted)
    {
        if (key == Leader)
        {
            return deleted ? ClusterChangeKind.LeaderLost : ClusterChangeKind.LeaderChanged;
        }

        if (key == Sync)
        {
            return ClusterChangeKind.SyncChanged;
        }

        if (key == Switchover)
        {
            return ClusterChangeKind.SwitchoverChanged;
        }

        return key.Span.StartsWith(MembersPrefix.Span) ? ClusterChangeKind.MembersChanged : null;
    }

    /// <summary>The end of the range of keys starting with <paramref name="prefix"/> (etcd's prefix convention: the last byte plus one).</summary>
    private static ByteString PrefixEnd(ByteString prefix)
    {
        byte[] end = prefix.ToByteArray();
        end[^1]++; // prefixes end with '/', never 0xff
        return ByteString.CopyFrom(end);
    }
}
