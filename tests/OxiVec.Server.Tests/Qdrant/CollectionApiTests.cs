using System.Net;
using System.Text.Json;

namespace OxiVec.Server.Tests.Qdrant;

public sealed class CollectionApiTests(QdrantServer server) : IClassFixture<QdrantServer>
{
    private HttpClient Http => server.Http;

    [Fact]
    public async Task CreateListGetExistsDelete_FollowQdrantShapes()
    {
        Answer created = (await Http.PutJsonAsync("/collections/c_life", """{"vectors": {"size": 4, "distance": "Cosine"}, "hnsw_config": {"m": 8, "ef_construct": 50}}""")).Expect(HttpStatusCode.OK);
        Assert.True(created.Result.GetBoolean());
        Assert.Equal("ok", created.Body.GetProperty("status").GetString());
        Assert.True(created.Lsn > 0);

        Answer list = (await Http.GetJsonAsync("/collections")).Expect(HttpStatusCode.OK);
        Assert.Contains(list.Result.GetProperty("collections").EnumerateArray(), c => c.GetProperty("name").GetString() == "c_life");

        await Http.UpsertAsync("c_life", """[{"id": 1, "vector": [1, 0, 0, 0]}, {"id": 2, "vector": [0, 1, 0, 0]}]""");
        JsonElement info = (await Http.GetJsonAsync("/collections/c_life")).Expect(HttpStatusCode.OK).Result;
        Assert.Equal("green", info.GetProperty("status").GetString());
        Assert.Equal("ok", info.GetProperty("optimizer_status").GetString());
        Assert.Equal(2, info.GetProperty("points_count").GetInt32());
        Assert.Equal(2, info.GetProperty("indexed_vectors_count").GetInt32());
        Assert.Equal(1, info.GetProperty("segments_count").GetInt32());
        JsonElement config = info.GetProperty("config");
        Assert.Equal(4, config.GetProperty("params").GetProperty("vectors").GetProperty("size").GetInt32());
        Assert.Equal("Cosine", config.GetProperty("params").GetProperty("vectors").GetProperty("distance").GetString());
        Assert.Equal(8, config.GetProperty("hnsw_config").GetProperty("m").GetInt32());
        Assert.Equal(50, config.GetProperty("hnsw_config").GetProperty("ef_construct").GetInt32());
        Assert.Equal(JsonValueKind.Object, config.GetProperty("optimizer_config").ValueKind);
        Assert.Equal(JsonValueKind.Object, config.GetProperty("wal_config").ValueKind);
        Assert.Equal(JsonValueKind.Object, info.GetProperty("payload_schema").ValueKind);

        Assert.True((await Http.GetJsonAsync("/collections/c_life/exists")).Expect(HttpStatusCode.OK).Result.GetProperty("exists").GetBoolean());
        Answer deleted = (await Http.DeleteJsonAsync("/collections/c_life")).Expect(HttpStatusCode.OK);
        Assert.True(deleted.Result.GetBoolean());
        Assert.True(deleted.Lsn > created.Lsn);
        Assert.False((await Http.GetJsonAsync("/collections/c_life/exists")).Expect(HttpStatusCode.OK).Result.GetProperty("exists").GetBoolean());
        Assert.False((await Http.DeleteJsonAsync("/collections/c_life")).Expect(HttpStatusCode.OK).Result.GetBoolean());
    }

    [Fact]
    public async Task Create_WithMZero_IsAnExactIndexReportedAsMZero()
    {
        (await Http.PutJsonAsync("/collections/c_flat", """{"vectors": {"size": 2, "distance": "Euclid", "hnsw_config": {"m": 0}}}""")).Expect(HttpStatusCode.OK);
        JsonElement info = (await Http.GetJsonAsync("/collections/c_flat")).Expect(HttpStatusCode.OK).Result;
        Assert.Equal(0, info.GetProperty("config").GetProperty("hnsw_config").GetProperty("m").GetInt32());
        Assert.Equal("Euclid", info.GetProperty("config").GetProperty("params").GetProperty("vectors").GetProperty("distance").GetString());
    }

    [Fact]
    public async Task Create_WithTheOneVectorNamedEmpty_IsTheUnnamedVector_AsLangChainCreatesIt()
    {
        (await Http.PutJsonAsync("/collections/c_empty_name", """{"vectors": {"": {"size": 3, "distance": "Cosine"}}}""")).Expect(HttpStatusCode.OK);
        (await Http.PutJsonAsync("/collections/c_empty_name/points", """{"points": [{"id": 1, "vector": {"": [1, 0, 0]}}]}""")).Expect(HttpStatusCode.OK);
        (await Http.PutJsonAsync("/collections/c_empty_name/points", """{"batch": {"ids": [2], "vectors": {"": [[0, 1, 0]]}}}""")).Expect(HttpStatusCode.OK);
        JsonElement hits = (await Http.PostJsonAsync("/collections/c_empty_name/points/query", """{"query": [0, 1, 0], "using": "", "limit": 1}""")).Expect(HttpStatusCode.OK).Result.GetProperty("points");
        Assert.Equal(2UL, hits[0].GetProperty("id").GetUInt64());
        Assert.Contains("named vectors", (await Http.PutJsonAsync("/collections/c_two_names", """{"vectors": {"": {"size": 3, "distance": "Cosine"}, "b": {"size": 3, "distance": "Cosine"}}}""")).Expect(HttpStatusCode.BadRequest).Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_Twice_Answers409AlreadyExists()
    {
        await Http.CreateAsync("c_twice");
        Answer again = (await Http.PutJsonAsync("/collections/c_twice", """{"vectors": {"size": 3, "distance": "Dot"}}""")).Expect(HttpStatusCode.Conflict);
        Assert.Equal("Wrong input: Collection `c_twice` already exists!", again.Error);
    }

    [Theory]
    [InlineData("GET", "/collections/nope")]
    [InlineData("PATCH", "/collections/nope")]
    [InlineData("POST", "/collections/nope/points/scroll")]
    [InlineData("POST", "/collections/nope/points/count")]
    [InlineData("POST", "/collections/nope/points/query")]
    [InlineData("PUT", "/collections/nope/points")]
    [InlineData("GET", "/collections/nope/points/1")]
    public async Task UnknownCollection_Answers404InQdrantWords(string method, string path)
    {
        Answer answer = (await Http.SendAsync(new HttpMethod(method), path, "{}")).Expect(HttpStatusCode.NotFound);
        Assert.Equal("Not found: Collection `nope` doesn't exist!", answer.Error);
        Assert.True(answer.Body.GetProperty("time").GetDouble() >= 0);
    }

    [Theory]
    [InlineData("/collections/%2E%2E")]
    [InlineData("/collections/..%2Fwal")]
    [InlineData("/collections/a%2Fb")]
    [InlineData("/collections/a%5Cb")]
    [InlineData("/collections/a%00b")]
    [InlineData("/collections/%2E")]
    [InlineData("/collections/caf%C3%A9")]
    [InlineData("/collections/a%20b")]
    public async Task Create_WithAPathOrOddName_IsRefused400AndCreatesNothing(string path)
    {
        Answer answer = await Http.PutJsonAsync(path, """{"vectors": {"size": 3, "distance": "Dot"}}""");
        Assert.True(answer.Status is HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed, $"{(int)answer.Status}: {answer.Raw}");
        Answer list = (await Http.GetJsonAsync("/collections")).Expect(HttpStatusCode.OK);
        Assert.All(list.Result.GetProperty("collections").EnumerateArray(), c => Assert.Matches("^[A-Za-z0-9_.-]+$", c.GetProperty("name").GetString()!));
        Assert.DoesNotContain(list.Result.GetProperty("collections").EnumerateArray(), c => c.GetProperty("name").GetString() is ".." or ".");
    }

    [Theory]
    [InlineData("/collections/..%2Fwal")]
    [InlineData("/collections/a%2Fb")]
    [InlineData("/collections/a%5Cb")]
    [InlineData("/collections/%2E%2E%2F%2E%2E")]
    public async Task Get_WithAPathName_Answers400NamingTheCollectionName(string path)
    {
        Answer answer = (await Http.GetJsonAsync(path)).Expect(HttpStatusCode.BadRequest);
        Assert.Contains("collection_name", answer.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("a%2Fb")]
    [InlineData("")]
    public void CollectionName_ThatCouldBeAPath_IsRefused(string name)
    {
        var ex = Assert.Throws<OxiVec.Hosting.Qdrant.Translation.QdrantRequestException>(() => OxiVec.Hosting.Qdrant.CollectionName.Check(name));
        Assert.Equal("collection_name", ex.Path);
    }

    [Theory]
    [InlineData("""{"vectors": {"size": 3, "distance": "Manhattan"}}""", "Manhattan")]
    [InlineData("""{"vectors": {"size": 3, "distance": "Cosine", "on_disk": true}}""", "vectors.on_disk")]
    [InlineData("""{"vectors": {"size": 3, "distance": "Cosine", "datatype": "uint8"}}""", "vectors.datatype")]
    [InlineData("""{"vectors": {"size": 3, "distance": "Cosine", "multivector_config": {"comparator": "max_sim"}}}""", "multivector_config")]
    [InlineData("""{"vectors": {"a": {"size": 3, "distance": "Cosine"}}}""", "named vectors")]
    [InlineData("""{"vectors": {"size": 3, "distance": "Cosine"}, "sparse_vectors": {"s": {}}}""", "sparse_vectors")]
    [InlineData("""{"vectors": {"size": 3, "distance": "Cosine"}, "quantization_config": {"scalar": {"type": "int8"}}}""", "quantization_config")]
    [InlineData("""{"vectors": {"size": 3, "distance": "Cosine"}, "shard_number": 2}""", "shard_number")]
    [InlineData("""{"vectors": {"size": 3, "distance": "Cosine"}, "replication_factor": 3}""", "replication_factor")]
    [InlineData("""{"vectors": {"size": 3, "distance": "Cosine"}, "on_disk_payload": true}""", "on_disk_payload")]
    [InlineData("""{"vectors": {"size": 3, "distance": "Cosine"}, "hnsw_config": {"m": 1}}""", "hnsw_config.m")]
    [InlineData("""{"vectors": {"size": 3, "distance": "Cosine"}, "hnsw_config": {"ef_construct": 2}}""", "hnsw_config.ef_construct")]
    [InlineData("""{"vectors": {"size": 3, "distance": "Cosine"}, "hnsw_config": {"payload_m": 4}}""", "payload_m")]
    [InlineData("""{"vectors": {"size": 0, "distance": "Cosine"}}""", "vectors.size")]
    [InlineData("""{"vectors": {"size": 65, "distance": "Cosine"}}""", "MaxDimension")]
    [InlineData("""{}""", "vectors")]
    [InlineData("""[1]""", "body")]
    [InlineData("""{"vectors": """, "not valid JSON")]
    public async Task Create_WithWhatOxiVecDoesNotHave_Answers400NamingIt_AndCreatesNothing(string body, string named)
    {
        Answer answer = (await Http.PutJsonAsync("/collections/c_refused", body)).Expect(HttpStatusCode.BadRequest);
        Assert.Contains(named, answer.Error, StringComparison.Ordinal);
        Assert.StartsWith("Wrong input: ", answer.Error, StringComparison.Ordinal);
        Assert.False((await Http.GetJsonAsync("/collections/c_refused/exists")).Result.GetProperty("exists").GetBoolean());
    }

    [Fact]
    public async Task Update_RefusesChanges_AndAcceptsAnEmptyDiff()
    {
        await Http.CreateAsync("c_patch");
        Assert.True((await Http.SendAsync(HttpMethod.Patch, "/collections/c_patch", """{"optimizers_config": null}""")).Expect(HttpStatusCode.OK).Result.GetBoolean());
        Answer refused = (await Http.SendAsync(HttpMethod.Patch, "/collections/c_patch", """{"hnsw_config": {"m": 32}}""")).Expect(HttpStatusCode.BadRequest);
        Assert.Contains("hnsw_config", refused.Error, StringComparison.Ordinal);
    }
}
