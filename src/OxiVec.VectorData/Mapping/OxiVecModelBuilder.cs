using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace OxiVec.VectorData.Mapping;

/// <summary>
/// Builds record models with the abstractions' model building, restricted to what OxiVec stores: keys string,
/// Guid, int, long; the data types of <see cref="ValueConverter"/>; vectors of floats; at most one vector property.
/// </summary>
internal sealed class OxiVecModelBuilder() : CollectionModelBuilder(NewOptions())
{
    public const string SupportedVectorTypes = "ReadOnlyMemory<float>, float[], Embedding<float>";
    public const string SupportedKeyTypes = "string, Guid, int, long";

    private static CollectionModelBuildingOptions NewOptions() => new()
    {
        // An OxiVec record has one vector; several vector properties are refused when the model is built.
        SupportsMultipleVectors = false,
        RequiresAtLeastOneVector = false,
    };

    protected override bool IsDataPropertyTypeValid(Type type, [NotNullWhen(false)] out string? supportedTypes)
    {
        supportedTypes = ValueConverter.SupportedTypes;
        return ValueConverter.IsSupported(type);
    }

    protected override bool IsVectorPropertyTypeValid(Type type, [NotNullWhen(false)] out string? supportedTypes)
    {
        supportedTypes = SupportedVectorTypes;
        return IsNativeVectorType(type);
    }

    protected override void ValidateKeyProperty(KeyPropertyModel keyProperty)
    {
        ArgumentNullException.ThrowIfNull(keyProperty);
        Type type = keyProperty.Type;
        if (type != typeof(string) && type != typeof(Guid) && type != typeof(int) && type != typeof(long))
        {
            throw new NotSupportedException(
                $"Key property '{keyProperty.ModelName}' has type '{type.Name}'; OxiVec keys are one of: {SupportedKeyTypes}.");
        }

        base.ValidateKeyProperty(keyProperty);
    }

    /// <summary>True for the vector types stored as they are (no embedding generation).</summary>
    public static bool IsNativeVectorType(Type type) =>
        type == typeof(ReadOnlyMemory<float>) || type == typeof(ReadOnlyMemory<float>?) || type == typeof(float[]) || type == typeof(Embedding<float>);
}
