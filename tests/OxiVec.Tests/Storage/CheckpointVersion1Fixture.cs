namespace OxiVec.Tests.Storage;

internal static class CheckpointVersion1Fixture
{
    public const string DataDirectory = "";
}
