using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using OxiVec.Hosting.Qdrant;

namespace OxiVec.Hosting.Server;

/// <summary>
/// Checks the API key of every request but the probes when keys are configured: from the <c>api-key</c> header or
/// <c>Authorization: Bearer</c>. No key or a wrong one answers 401; the read-only key on a write answers 403.
/// </summary>
/// <remarks>
/// Keys are compared in constant time: the SHA-256 of the key presented against the SHA-256 of each configured key
/// (equal lengths, whatever the lengths of the keys), with <see cref="CryptographicOperations.FixedTimeEquals"/>,
/// always against both keys.
/// </remarks>
internal sealed class ApiKeyMiddleware
{
    /// <summary>The header Qdrant's clients send the key in.</summary>
    public const string HeaderName = "api-key";

    // The callers a key identifies (immutable: one instance each serves every request).
    private static readonly RequestCaller ReadWriteCaller = new("api-key", "this API key");
    private static readonly RequestCaller ReadOnlyCaller = new("read-only-api-key", "this API key");

    private readonly RequestDelegate _next;
    private readonly byte[]? _readWrite;
    private readonly byte[]? _readOnly;

    public ApiKeyMiddleware(RequestDelegate next, IOptions<ServerOptions> options)
    {
        _next = next;
        _readWrite = Hash(options.Value.ApiKey);
        _readOnly = Hash(options.Value.ReadOnlyApiKey);
    }

    public Task InvokeAsync(HttpContext context)
    {
        if ((_readWrite is null && _readOnly is null) || RequestAccess.IsProbe(context.Request.Path))
        {
            // No RequestCaller feature: whoever needs the caller (the rate limiter) takes RequestCaller.Anonymous then,
            // so a request that is not rate limited does not format its client's address.
            return _next(context);
        }

        if (PresentedKey(context.Request) is not { } presented)
        {
            return QdrantResponse.WriteErrorAsync(
                context, StatusCodes.Status401Unauthorized, $"Must provide an API key in the '{HeaderName}' header or as 'Authorization: Bearer <key>'.");
        }

        byte[] hash = Hash(presented)!;
        bool readWrite = _readWrite is not null && CryptographicOperations.FixedTimeEquals(hash, _readWrite);
        bool readOnly = _readOnly is not null && CryptographicOperations.FixedTimeEquals(hash, _readOnly);
        if (!readWrite && !readOnly)
        {
            return QdrantResponse.WriteErrorAsync(context, StatusCodes.Status401Unauthorized, "Invalid API key.");
        }

        if (!readWrite && !RequestAccess.IsRead(context.Request.Method, context.Request.Path))
        {
            return QdrantResponse.WriteErrorAsync(
                context, StatusCodes.Status403Forbidden,
                $"The read-only API key may only read and search; {context.Request.Method} {context.Request.Path} writes. Use the read-write API key.");
        }

        context.Features.Set(readWrite ? ReadWriteCaller : ReadOnlyCaller);
        return _next(context);
    }

    private static string? PresentedKey(HttpRequest request)
    {
        string? key = request.Headers[HeaderName].ToString();
        if (!string.IsNullOrEmpty(key))
        {
            return key;
        }

        string authorization = request.Headers[HeaderNames.Authorization].ToString();
        const string Bearer = "Bearer ";
        return authorization.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase) && authorization.Length > Bearer.Length
            ? authorization[Bearer.Length..].Trim()
            : null;
    }

    private static byte[]? Hash(string? key) => key is null ? null : SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
