using OxiVec.VectorData.Tests.Conformance;

namespace OxiVec.VectorData.Tests.Embedded;

// Every conformance suite, run against the embedded back end (one fixture, so one database, per suite).
public sealed class EmbeddedBasicTests(EmbeddedFixture fixture) : BasicConformance(fixture), IClassFixture<EmbeddedFixture>;
