using System.Net;

namespace OxiVec.Client;

/// <summary>
/// A call the server refused or could not answer: the HTTP status (null when no answer came: a connection failure or
/// a timeout), the server's error message, and the method and path of the request. A standby refusing a write
/// (421 Misdirected Request) names the primary in <see cref="PrimaryAddress"/>.
/// </summary>
public sealed class OxiVecClientException : Exception
{
    /// <summary>A failed call.</summary>
    public OxiVecClientException(string message, HttpStatusCode? statusCode, string? serverMessage, string method, string path,
        string? primaryAddress = null, string? requestId = null, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        ServerMessage = serverMessage;
        Method = method;
        Path = path;
        PrimaryAddress = primaryAddress;
        RequestId = requestId;
    }

    /// <summary>An exception with <paramref name="message"/> only.</summary>
    public OxiVecClientException(string message)
        : this(message, null, null, "", "")
    {
    }

    /// <summary>An exception with <paramref name="message"/> and its cause.</summary>
    public OxiVecClientException(string message, Exception innerException)
        : this(message, null, null, "", "", innerException: innerException)
    {
    }

    /// <summary>An exception without details.</summary>
    public OxiVecClientException()
        : this("The OxiVec server call failed.")
    {
    }

    /// <summary>The HTTP status of the answer, or null when none came (connection failure, timeout).</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>The server's error message (<c>status.error</c> of its envelope, or the start of the body), or null.</summary>
    public string? ServerMessage { get; }

    /// <summary>The request's HTTP method.</summary>
    public string Method { get; }

    /// <summary>The request's path (and query).</summary>
    public string Path { get; }

    /// <summary>On a 421 from a standby: the primary's address from the <c>OxiVec-Primary</c> header; send writes there.</summary>
    public string? PrimaryAddress { get; }

    /// <summary>The server's <c>x-request-id</c> of the request (its logs name it), or null.</summary>
    public string? RequestId { get; }
}
