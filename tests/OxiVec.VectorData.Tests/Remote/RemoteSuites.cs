using OxiVec.VectorData.Tests.Conformance;

namespace OxiVec.VectorData.Tests.Remote;

// Every conformance suite, run against the remote back end (one fixture, so one server, per suite).
public sealed class RemoteBasicTests(RemoteFixture fixture) : BasicConformance(fixture), IClassFixture<RemoteFixture>;

public sealed class RemoteCollectionManagementTests(RemoteFixture fixture) : CollectionManagementConformance(fixture), IClassFixture<RemoteFixture>;

public sealed class RemoteDependencyInjectionTests(RemoteFixture fixture) : DependencyInjectionConformance(fixture), IClassFixture<RemoteFixture>;

public sealed class RemoteDistanceFunctionTests(RemoteFixture fixture) : DistanceFunctionConformance(fixture), IClassFixture<RemoteFixture>;

public sealed class RemoteEmbeddingGenerationTests(RemoteFixture fixture) : EmbeddingGenerationConformance(fixture), IClassFixture<RemoteFixture>;

public sealed class RemoteEmbeddingTypeTests(RemoteFixture fixture) : EmbeddingTypeConformance(fixture), IClassFixture<RemoteFixture>;

public sealed class RemoteFilterTests(RemoteFixture fixture) : FilterConformance(fixture), IClassFixture<RemoteFixture>;

public sealed class RemoteIndexKindTests(RemoteFixture fixture) : IndexKindConformance(fixture), IClassFixture<RemoteFixture>;

public sealed class RemoteDynamicTests(RemoteFixture fixture) : DynamicConformance(fixture), IClassFixture<RemoteFixture>;

public sealed class RemoteModelShapeTests(RemoteFixture fixture) : ModelShapeConformance(fixture), IClassFixture<RemoteFixture>;

public sealed class RemoteDataTypeTests(RemoteFixture fixture) : DataTypeConformance(fixture), IClassFixture<RemoteFixture>;

public sealed class RemoteKeyTypeTests(RemoteFixture fixture) : KeyTypeConformance(fixture), IClassFixture<RemoteFixture>;

public sealed class RemoteBackendContractTests(RemoteFixture fixture) : BackendContractConformance(fixture), IClassFixture<RemoteFixture>;
