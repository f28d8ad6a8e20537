using System.Security.Cryptography;
using System.Text;
using CloudScale.Sidecar.Api;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace CloudScale.Sidecar.GrpcApi;

internal static class GrpcErrors
{
    /// <summary>The trailer that carries google.rpc.Status, where gRPC clients read Dapr's rich error details.</summary>
    private const string DetailsTrailer = "grpc-status-details-bin";

    /// <summary>
    /// <paramref name="error"/> as the gRPC API reports it: its code and message, and for the errors daprd raises through
    /// dapr/kit the same ErrorInfo (and ResourceInfo) details as the HTTP body has.
    /// </summary>
    public static RpcException ToRpcException(DaprError error)
    {
        var trailers = new Metadata();
        if (error.Reason is not null)
        {
            var info = new ErrorInfo { Reason = error.Reason, Domain = "dapr.io" };
            if (error.ReasonMetadata is not null)
            {
                info.Metadata.AddAll(error.ReasonMetadata);
            }

            var status = new Google.Rpc.Status { Code = (int)error.GrpcCode, Message = error.Message, Details = { Any.Pack(info) } };
            if (error.Resource is var (type, name, description))
            {
                status.Details.Add(Any.Pack(new ResourceInfo { ResourceType = type, ResourceName = name, Description = description }));
            }

            trailers.Add(DetailsTrailer, status.ToByteArray());
        }

        return new RpcException(new Grpc.Core.Status(error.GrpcCode, error.Message), trailers);
    }

    /// <summary>
    /// daprd's <c>ErrorFromHTTPResponseCode</c>: the gRPC code for an HTTP status, the status text as the message, and an
    /// ErrorInfo whose metadata has the code and the first 63 characters of the detail.
    /// </summary>
    public static RpcException FromHttpStatus(int code, string detail, Metadata? trailers = null)
    {
        var grpcCode = CodeFromHttpStatus(code);
        var text = ReasonPhrase(code);
        var info = new ErrorInfo
        {
            Reason = text,
            Domain = "dapr.io",
            Metadata = { ["http.code"] = code.ToString(System.Globalization.CultureInfo.InvariantCulture), ["http.error_message"] = detail.Length >= 63 ? detail[..63] : detail },
        };
        trailers ??= [];
        trailers.Add(DetailsTrailer, new Google.Rpc.Status { Code = (int)grpcCode, Message = text, Details = { Any.Pack(info) } }.ToByteArray());
        return new RpcException(new Grpc.Core.Status(grpcCode, text), trailers);
    }

    /// <summary>daprd's <c>CodeFromHTTPStatus</c> (gRPC's HTTP mapping, with 400 as Internal and 500 as Unknown).</summary>
    private static StatusCode CodeFromHttpStatus(int code) => code switch
    {
        StatusCodes.Status408RequestTimeout => StatusCode.Cancelled,
        StatusCodes.Status500InternalServerError => StatusCode.Unknown,
        StatusCodes.Status400BadRequest => StatusCode.Internal,
        StatusCodes.Status504GatewayTimeout => StatusCode.DeadlineExceeded,
        StatusCodes.Status404NotFound => StatusCode.NotFound,
        StatusCodes.Status409Conflict => StatusCode.AlreadyExists,
        StatusCodes.Status403Forbidden => StatusCode.PermissionDenied,
        StatusCodes.Status401Unauthorized => StatusCode.Unauthenticated,
        StatusCodes.Status429TooManyRequests => StatusCode.ResourceExhausted,
        StatusCodes.Status501NotImplemented => StatusCode.Unimplemented,
        StatusCodes.Status503ServiceUnavailable => StatusCode.Unavailable,
        >= 200 and < 300 => StatusCode.OK,
        _ => StatusCode.Unknown,
    };

    private static string ReasonPhrase(int code) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(code);
}

/// <summary>
/// With <c>DAPR_API_TOKEN</c> set, every gRPC call needs metadata <c>dapr-api-token</c>; daprd answers a missing or
/// wrong one with Unauthenticated, built as for an HTTP 401.
/// </summary>
internal sealed class ApiTokenInterceptor(SidecarTokens tokens) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    private void Check(ServerCallContext context)
    {
        if (tokens.Api is { } token)
        {
            var presented = context.RequestHeaders.Get("dapr-api-token")?.Value;
            if (presented is null)
            {
                throw GrpcErrors.FromHttpStatus(StatusCodes.Status401Unauthorized, "missing api token in request metadata");
            }

            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(token)))
            {
                throw GrpcErrors.FromHttpStatus(StatusCodes.Status401Unauthorized, "authentication error: api token mismatch");
            }
        }
    }
}

/// <summary>The API token the gRPC interceptor checks (null: none required).</summary>
internal sealed record SidecarTokens(string? Api);
