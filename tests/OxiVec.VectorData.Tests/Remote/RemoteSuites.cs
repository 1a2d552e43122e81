using OxiVec.VectorData.Tests.Conformance;

namespace OxiVec.VectorData.Tests.Remote;

// Every conformance suite, run against the remote back end (one fixture, so one server, per suite).
public sealed class RemoteBasicTests(RemoteFixture fixture) : BasicConformance(fixture), IClassFixture<RemoteFixture>;
