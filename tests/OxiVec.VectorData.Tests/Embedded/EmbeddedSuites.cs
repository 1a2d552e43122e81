using OxiVec.VectorData.Tests.Conformance;

namespace OxiVec.VectorData.Tests.Embedded;

// Every conformance suite, run against the embedded back end (one fixture, so one database, per suite).
public sealed class EmbeddedBasicTests(EmbeddedFixture fixture) : BasicConformance(fixture), IClassFixture<EmbeddedFixture>;

public sealed class EmbeddedCollectionManagementTests(EmbeddedFixture fixture) : CollectionManagementConformance(fixture), IClassFixture<EmbeddedFixture>;

public sealed class EmbeddedDependencyInjectionTests(EmbeddedFixture fixture) : DependencyInjectionConformance(fixture), IClassFixture<EmbeddedFixture>;

public sealed class EmbeddedDistanceFunctionTests(EmbeddedFixture fixture) : DistanceFunctionConformance(fixture), IClassFixture<EmbeddedFixture>;

public sealed class EmbeddedEmbeddingGenerationTests(EmbeddedFixture fixture) : EmbeddingGenerationConformance(fixture), IClassFixture<EmbeddedFixture>;

public sealed class EmbeddedEmbeddingTypeTests(EmbeddedFixture fixture) : EmbeddingTypeConformance(fixture), IClassFixture<EmbeddedFixture>;

public sealed class EmbeddedFilterTests(EmbeddedFixture fixture) : FilterConformance(fixture), IClassFixture<EmbeddedFixture>;

public sealed class EmbeddedIndexKindTests(EmbeddedFixture fixture) : IndexKindConformance(fixture), IClassFixture<EmbeddedFixture>;

public sealed class EmbeddedDynamicTests(EmbeddedFixture fixture) : DynamicConformance(fixture), IClassFixture<EmbeddedFixture>;

public sealed class EmbeddedModelShapeTests(EmbeddedFixture fixture) : ModelShapeConformance(fixture), IClassFixture<EmbeddedFixture>;

public sealed class EmbeddedDataTypeTests(EmbeddedFixture fixture) : DataTypeConformance(fixture), IClassFixture<EmbeddedFixture>;

public sealed class EmbeddedKeyTypeTests(EmbeddedFixture fixture) : KeyTypeConformance(fixture), IClassFixture<EmbeddedFixture>;

public sealed class EmbeddedBackendContractTests(EmbeddedFixture fixture) : BackendContractConformance(fixture), IClassFixture<EmbeddedFixture>;
