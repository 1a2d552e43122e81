using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Linq.Expressions;
using System.Reflection;
using Microsoft.Extensions.VectorData.ProviderServices;
using Microsoft.Extensions.VectorData.ProviderServices.Filter;
using OxiVec.Storage;
using OxiVec.VectorData.Mapping;

namespace OxiVec.VectorData.Filtering;

/// <summary>
/// Translates a LINQ filter over records into OxiVec's in-index <see cref="MetadataFilter"/>: <c>==</c>,
/// <c>!=</c>, <c>&lt;</c>, <c>&lt;=</c>, <c>&gt;</c>, <c>&gt;=</c>, <c>&amp;&amp;</c>, <c>||</c>, <c>!</c>, null
/// checks, a bool property alone, <c>Contains</c> on an array or list property and on a captured or inline array,
/// <c>Any(x =&gt; values.Contains(x))</c> on an array property; captured variables and members, and computations
/// that do not read the record (<c>DateTime.UtcNow.AddDays(-1)</c>), are evaluated first.
/// Anything else throws <see cref="NotSupportedException"/> naming the expression. C# semantics are kept:
/// <c>x != v</c> is true when x is null (it becomes <c>not (x = v)</c>).
/// </summary>
internal sealed class FilterTranslator : FilterTranslatorBase
{
    /// <summary>The OxiVec filter of <paramref name="filter"/> over records of <paramref name="model"/>.</summary>
    public MetadataFilter Translate(LambdaExpression filter, CollectionModel model)
    {
        ArgumentNullException.ThrowIfNull(filter);
        Expression body = PreprocessFilter(filter, model, new FilterPreprocessingOptions { SupportsParameterization = false });
        return Translate(body);
    }

    private MetadataFilter Translate(Expression node) => node switch
    {
        BinaryExpression { NodeType: ExpressionType.AndAlso } and => MetadataFilter.And(Translate(and.Left), Translate(and.Right)),
        BinaryExpression { NodeType: ExpressionType.OrElse } or => MetadataFilter.Or(Translate(or.Left), Translate(or.Right)),
        UnaryExpression { NodeType: ExpressionType.Not } not => MetadataFilter.Not(Translate(not.Operand)),
        UnaryExpression { NodeType: ExpressionType.Convert } convert when convert.Type == typeof(bool) => Translate(convert.Operand),
        BinaryExpression binary when IsComparison(binary.NodeType) => Comparison(binary),
        ConstantExpression { Value: bool b } => b ? MetadataFilter.Always : MetadataFilter.Never,
        MethodCallExpression call => Call(call),
        _ when TryBindProperty(node, out PropertyModel? property) && Unwrap(property.Type) == typeof(bool) =>
            MetadataFilter.Equal(Field(property), true),
        _ => throw Unsupported(node),
    };

    /// <inheritdoc/>
    /// <remarks>A property cast to another type (comparing an int property with a long one...) is refused as untranslatable.</remarks>
    protected override bool TryBindProperty(Expression expression, [NotNullWhen(true)] out PropertyModel? propertyModel)
    {
        try
        {
            return base.TryBindProperty(expression, out propertyModel);
        }
        catch (InvalidCastException ex)
        {
            throw new NotSupportedException($"OxiVec cannot translate the filter expression '{expression}': {ex.Message}", ex);
        }
    }

    private MetadataFilter Comparison(BinaryExpression binary)
    {
        ExpressionType op = binary.NodeType;
        Expression propertySide = binary.Left, valueSide = binary.Right;
        if (!TryBindProperty(propertySide, out PropertyModel? property))
        {
            (propertySide, valueSide) = (valueSide, propertySide);
            op = Flip(op);
            if (!TryBindProperty(propertySide, out property))
            {
                throw Unsupported(binary, "one side must be a record property and the other a value");
            }
        }

        if (!TryEvaluate(valueSide, out object? value))
        {
            throw Unsupported(binary, "the value side must be a constant, captured variable or member");
        }

        if (property is KeyPropertyModel key)
        {
            MetadataFilter hasId = MetadataFilter.HasId([KeyConverter.ToId(value, key.Type)]);
            return op switch
            {
                ExpressionType.Equal => hasId,
                ExpressionType.NotEqual => MetadataFilter.Not(hasId),
                _ => throw Unsupported(binary, "keys compare only with == and !="),
            };
        }

        if (property is not DataPropertyModel)
        {
            throw Unsupported(binary, "only key and data properties can be filtered on");
        }

        if (ValueConverter.ElementType(property.Type) is not null && value is not null)
        {
            throw Unsupported(binary, "an array property compares only with null; use Contains for its items");
        }

        MetadataValue stored = ToStorage(value, property, binary);
        string field = Field(property);
        if (stored.IsNull && op is not (ExpressionType.Equal or ExpressionType.NotEqual))
        {
            return MetadataFilter.Never; // C#: an ordering comparison with null is false
        }

        return op switch
        {
            ExpressionType.Equal => MetadataFilter.Equal(field, stored),
            ExpressionType.NotEqual => MetadataFilter.Not(MetadataFilter.Equal(field, stored)),
            ExpressionType.LessThan => MetadataFilter.Compare(field, FilterOperator.LessThan, stored),
            ExpressionType.LessThanOrEqual => MetadataFilter.Compare(field, FilterOperator.LessThanOrEqual, stored),
            ExpressionType.GreaterThan => MetadataFilter.Compare(field, FilterOperator.GreaterThan, stored),
            _ => MetadataFilter.Compare(field, FilterOperator.GreaterThanOrEqual, stored),
        };
    }

    private MetadataFilter Call(MethodCallExpression call)
    {
        if (TryMatchContains(call, out Expression? source, out Expression? item))
        {
            return Contains(call, source, item);
        }

        // r.Tags.Any(t => values.Contains(t))
        if (call.Method is { Name: nameof(Enumerable.Any), DeclaringType: var declaring } && declaring == typeof(Enumerable)
            && call.Arguments is [var anySource, LambdaExpression { Body: MethodCallExpression inner } predicate]
            && TryBindProperty(anySource, out PropertyModel? arrayProperty)
            && TryMatchContains(inner, out Expression? valuesSource, out Expression? valuesItem)
            && valuesItem == predicate.Parameters[0]
            && TryEvaluate(valuesSource, out object? values))
        {
            return AnyOf(call, arrayProperty, values);
        }

        throw Unsupported(call);
    }

    private MetadataFilter Contains(MethodCallExpression call, Expression source, Expression item)
    {
        // r.Tags.Contains(value): membership in an array property
        if (TryBindProperty(source, out PropertyModel? arrayProperty))
        {
            if (!TryEvaluate(item, out object? value))
            {
                throw Unsupported(call, "the item must be a constant, captured variable or member");
            }

            return AnyOf(call, arrayProperty, new[] { value });
        }

        // values.Contains(r.Field): the field is one of the values
        if (TryBindProperty(item, out PropertyModel? property) && TryEvaluate(source, out object? values))
        {
            if (values is not IEnumerable enumerable)
            {
                throw Unsupported(call, "the values must be an array or list");
            }

            var items = new List<object?>();
            foreach (object? v in enumerable)
            {
                items.Add(v);
            }

            if (property is KeyPropertyModel key)
            {
                return items.Count == 0 ? MetadataFilter.Never : MetadataFilter.HasId(items.Select(k => KeyConverter.ToId(k, key.Type)));
            }

            if (property is not DataPropertyModel || ValueConverter.ElementType(property.Type) is not null)
            {
                throw Unsupported(call, "the item must be a scalar data or key property");
            }

            return items.Count == 0
                ? MetadataFilter.Never
                : new MetadataFilter.InList(Field(property), [.. items.Select(v => ToStorage(v, property, call))]);
        }

        throw Unsupported(call);
    }

    private static MetadataFilter AnyOf(Expression node, PropertyModel arrayProperty, object? values)
    {
        if (arrayProperty is not DataPropertyModel || ValueConverter.ElementType(arrayProperty.Type) is not { } element)
        {
            throw Unsupported(node, $"'{arrayProperty.ModelName}' is not an array or list property");
        }

        if (values is not IEnumerable enumerable)
        {
            throw Unsupported(node, "the values must be an array or list");
        }

        var items = new List<MetadataValue>();
        foreach (object? v in enumerable)
        {
            MetadataValue stored = v is null ? MetadataValue.Null : ValueConverter.ScalarToStorage(v);
            if (stored.Kind is not (MetadataKind.String or MetadataKind.Long or MetadataKind.Bool))
            {
                throw Unsupported(node, $"OxiVec tests list membership only for items stored as strings, integers or booleans, not '{element.Name}' items");
            }

            items.Add(stored);
        }

        return items.Count == 0 ? MetadataFilter.Never : MetadataFilter.MatchAny(Field(arrayProperty), items);
    }

    private static MetadataValue ToStorage(object? value, PropertyModel property, Expression node)
    {
        try
        {
            return value is null ? MetadataValue.Null : ValueConverter.ScalarToStorage(value);
        }
        catch (ArgumentException ex)
        {
            throw new NotSupportedException($"The filter value in '{node}' cannot be compared with '{property.ModelName}': {ex.Message}", ex);
        }
    }

    private static string Field(PropertyModel property)
    {
        // MatchAny takes a path: a storage name with path syntax in it would be misread, so it is refused.
        if (property.StorageName.AsSpan().IndexOfAny(".[]\"") >= 0)
        {
            throw new NotSupportedException($"Property '{property.ModelName}' has the storage name '{property.StorageName}', which OxiVec filters cannot name ('.', '[', ']' or '\"' in it).");
        }

        return property.StorageName;
    }

    private static bool TryEvaluate(Expression node, out object? value)
    {
        while (node is UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked } convert)
        {
            if (convert.Operand is ConstantExpression inner && convert.Method is null)
            {
                value = ConvertConstant(inner.Value, convert.Type);
                return true;
            }

            node = convert.Operand;
        }

        switch (node)
        {
            case ConstantExpression constant:
                value = constant.Value;
                return true;
            case NewArrayExpression { NodeType: ExpressionType.NewArrayInit } array:
                var items = Array.CreateInstance(array.Type.GetElementType()!, array.Expressions.Count);
                for (int i = 0; i < array.Expressions.Count; i++)
                {
                    if (!TryEvaluate(array.Expressions[i], out object? item))
                    {
                        value = null;
                        return false;
                    }

                    items.SetValue(item, i);
                }

                value = items;
                return true;
            case not null when !ParameterFinder.Uses(node):
                // A computation without the record (Utc.AddDays(1), a method call on captured values): evaluated once, here.
                value = Expression.Lambda<Func<object?>>(Expression.Convert(node, typeof(object))).Compile(preferInterpretation: true)();
                return true;
            default:
                value = null;
                return false;
        }
    }

    private static object? ConvertConstant(object? value, Type type)
    {
        Type target = Nullable.GetUnderlyingType(type) ?? type;
        return value is null || target == typeof(object) || target.IsInstanceOfType(value) ? value
            : value is IConvertible ? Convert.ChangeType(value, target, System.Globalization.CultureInfo.InvariantCulture)
            : value;
    }

    private static bool IsComparison(ExpressionType type) => type is ExpressionType.Equal or ExpressionType.NotEqual
        or ExpressionType.LessThan or ExpressionType.LessThanOrEqual or ExpressionType.GreaterThan or ExpressionType.GreaterThanOrEqual;

    private static ExpressionType Flip(ExpressionType type) => type switch
    {
        ExpressionType.LessThan => ExpressionType.GreaterThan,
        ExpressionType.LessThanOrEqual => ExpressionType.GreaterThanOrEqual,
        ExpressionType.GreaterThan => ExpressionType.LessThan,
        ExpressionType.GreaterThanOrEqual => ExpressionType.LessThanOrEqual,
        _ => type,
    };

    private static Type Unwrap(Type type) => Nullable.GetUnderlyingType(type) ?? type;

    /// <summary>Finds whether an expression reads a lambda parameter (the record, or an inner lambda's item).</summary>
    private sealed class ParameterFinder : ExpressionVisitor
    {
        private bool _found;

        public static bool Uses(Expression node)
        {
            var finder = new ParameterFinder();
            finder.Visit(node);
            return finder._found;
        }

        protected override Expression VisitParameter(ParameterExpression node)
        {
            _found = true;
            return node;
        }
    }

    private static NotSupportedException Unsupported(Expression node, string? reason = null) =>
        new($"OxiVec cannot translate the filter expression '{node}'{(reason is null ? "" : $": {reason}")}. Supported: ==, !=, <, <=, >, >=, &&, ||, !, null checks, Contains on array properties or on arrays of values, Any with Contains.");
}
