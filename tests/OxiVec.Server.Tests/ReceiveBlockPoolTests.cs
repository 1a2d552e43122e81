using System.Buffers;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using OxiVec.Hosting.Server;
using OxiVec.Server.Tests.Qdrant;

namespace OxiVec.Server.Tests;

public sealed class ReceiveBlockPoolTests
{
    [Fact]
    public void Rent_GivesWholeBlocks_AndReusesAReturnedOne()
    {
        using var pool = new ReceiveBlockPool();
        IMemoryOwner<byte> first = pool.Rent(2_048);
        Assert.Equal(ReceiveBlockPool.BlockSize, first.Memory.Length);
        Assert.Equal(ReceiveBlockPool.BlockSize, pool.Rent().Memory.Length); // the default size too
        Assert.True(MemoryMarshal.TryGetArray(first.Memory, out ArraySegment<byte> firstArray));
        first.Dispose();
        Assert.Equal(1, pool.FreeCount);

        using IMemoryOwner<byte> second = pool.Rent(ReceiveBlockPool.BlockSize);
        Assert.True(MemoryMarshal.TryGetArray(second.Memory, out ArraySegment<byte> secondArray));
        Assert.Same(firstArray.Array, secondArray.Array);
        Assert.Equal(0, pool.FreeCount);
    }

    [Fact]
    public void Rent_MoreThanABlock_IsRefused()
    {
        using var pool = new ReceiveBlockPool();
        Assert.Equal(ReceiveBlockPool.BlockSize, pool.MaxBufferSize);
        _ = Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(ReceiveBlockPool.BlockSize + 1));
    }

    [Fact]
    public void Dispose_TwiceOfOneLease_ReturnsTheBlockOnce()
    {
        using var pool = new ReceiveBlockPool();
        IMemoryOwner<byte> block = pool.Rent();
        block.Dispose();
        block.Dispose();
        Assert.Equal(1, pool.FreeCount);
        using IMemoryOwner<byte> again = pool.Rent();
        using IMemoryOwner<byte> other = pool.Rent();
        Assert.NotEqual(again.Memory, other.Memory); // not the same block handed out twice
    }

    [Fact]
    public void Return_KeepsAtMostMaxRetainedFreeBlocks()
    {
        using var pool = new ReceiveBlockPool();
        IMemoryOwner<byte>[] blocks = [.. Enumerable.Range(0, ReceiveBlockPool.MaxRetained + 10).Select(_ => pool.Rent())];
        foreach (IMemoryOwner<byte> block in blocks)
        {
            block.Dispose();
        }

        Assert.Equal(ReceiveBlockPool.MaxRetained, pool.FreeCount);
    }

    [Fact]
    public void Rent_AfterDispose_Throws()
    {
        var pool = new ReceiveBlockPool();
        IMemoryOwner<byte> block = pool.Rent();
        pool.Dispose();
        block.Dispose(); // a block returned after the pool closed is dropped
        Assert.Equal(0, pool.FreeCount);
        _ = Assert.Throws<ObjectDisposedException>(() => pool.Rent());
    }

    /// <summary>
    /// The server's connections take their pools from <see cref="ReceiveBlockPoolFactory"/>, and requests smaller and
    /// larger than one block (a 384-number search, a 40 KB batch upsert) are read whole.
    /// </summary>
    [Fact]
    public async Task Server_ConnectionsUseTheFactorysPools_RequestsOfAnySizeReadWhole()
    {
        await using ServerFixture server = await ServerFixture.StartAsync();
        var factory = (ReceiveBlockPoolFactory)server.Services.GetRequiredService<IMemoryPoolFactory<byte>>();
        const int dimension = 384;
        await server.Client.CreateAsync("blocks", size: dimension, distance: "Euclid");
        var points = new StringBuilder("[");
        for (int id = 1; id <= 10; id++)
        {
            string vector = string.Join(',', Enumerable.Range(0, dimension).Select(i => ((id * 1_000) + i).ToString(CultureInfo.InvariantCulture) + ".125"));
            _ = points.Append(CultureInfo.InvariantCulture, $"{(id > 1 ? "," : "")}{{\"id\": {id}, \"vector\": [{vector}]}}");
        }

        string batch = points.Append(']').ToString();
        Assert.True(batch.Length > 2 * ReceiveBlockPool.BlockSize, $"the batch is {batch.Length} bytes");
        _ = await server.Client.UpsertAsync("blocks", batch);

        string query = $$"""{"query": [{{string.Join(',', Enumerable.Range(0, dimension).Select(i => (7_100 + i).ToString(CultureInfo.InvariantCulture) + ".0009765625"))}}], "limit": 2}""";
        Assert.True(query.Length > 4_096, $"the query is {query.Length} bytes");
        JsonElement hits = (await server.Client.PostJsonAsync("/collections/blocks/points/query", query)).Expect(HttpStatusCode.OK).Result.GetProperty("points");
        Assert.Equal([7UL, 8UL], hits.EnumerateArray().Select(p => p.GetProperty("id").GetUInt64()));
        Assert.True(factory.Created > 0, "Kestrel's transport did not create its pool from ReceiveBlockPoolFactory");
    }
}
