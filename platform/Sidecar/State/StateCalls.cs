using CloudScale.Sidecar.Api;

namespace CloudScale.Sidecar.State;

/// <summary>
/// The store calls behind the HTTP and gRPC state APIs, with daprd's error for each failure: a store error is 500 (gRPC
/// Internal), an etag mismatch 409 (Aborted), an invalid etag 400 (InvalidArgument).
/// </summary>
internal static class StateCalls
{
    public static async Task<StateItem?> GetAsync(IStateStore store, string storeKey, string key, CancellationToken cancellationToken)
    {
        try
        {
            return await store.GetAsync(storeKey, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            throw new DaprErrorException(new DaprError(StatusCodes.Status500InternalServerError, "ERR_STATE_GET", $"fail to get {key} from state store {store.Name}: {exception.Message}"));
        }
    }

    /// <summary>One item per key, in order, each with its data or the error that reading it met (never a failed request).</summary>
    public static async Task<(StateItem? Item, string? Error)[]> BulkGetAsync(IStateStore store, IReadOnlyList<string> storeKeys, int parallelism, CancellationToken cancellationToken)
    {
        var results = new (StateItem? Item, string? Error)[storeKeys.Count];
        if (store is IBulkStateStore bulk)
        {
            try
            {
                var items = await bulk.BulkGetAsync(storeKeys, cancellationToken);
                for (var index = 0; index < storeKeys.Count; index++)
                {
                    results[index] = (items[index], null);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // As when each key is read alone: the failure is reported on every key, not as a failed request.
                Array.Fill(results, (null, exception.Message));
            }

            return results;
        }

        await Parallel.ForAsync(0, storeKeys.Count, new ParallelOptions { MaxDegreeOfParallelism = parallelism > 0 ? parallelism : 100, CancellationToken = cancellationToken }, async (index, token) =>
        {
            try
            {
                results[index] = (await store.GetAsync(storeKeys[index], token), null);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                results[index] = (null, exception.Message);
            }
        });
        return results;
    }

    public static async Task SaveAsync(IStateStore store, IReadOnlyList<SetRequest> requests, CancellationToken cancellationToken)
    {
        foreach (var request in requests)
        {
            try
            {
                await store.SetAsync(request, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                throw Error(exception, "ERR_STATE_SAVE", $"failed saving state in state store {store.Name}");
            }
        }
    }

    /// <summary>Deletes one key; <paramref name="key"/> is the caller's key, for the message. With several requests (gRPC's bulk delete), the message names the store.</summary>
    public static async Task DeleteAsync(IStateStore store, IReadOnlyList<(DeleteRequest Request, string Key)> requests, CancellationToken cancellationToken)
    {
        foreach (var (request, key) in requests)
        {
            try
            {
                await store.DeleteAsync(request, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                throw requests.Count == 1
                    ? Error(exception, "ERR_STATE_DELETE", $"failed deleting state with key {key}")
                    : Error(exception, "ERR_STATE_DELETE", $"failed deleting state in state store {store.Name}");
            }
        }
    }

    public static async Task TransactAsync(IStateStore store, IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        if (operations.Count == 0)
        {
            return;
        }

        try
        {
            await store.MultiAsync(operations, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // An etag mismatch inside a transaction is a 500 too, never a 409.
            throw new DaprErrorException(new DaprError(StatusCodes.Status500InternalServerError, "ERR_STATE_TRANSACTION", $"error while executing state transaction: {exception.Message}"));
        }
    }

    public static DaprErrorException UnsupportedOperation(string? type) =>
        new(new DaprError(StatusCodes.Status400BadRequest, "ERR_NOT_SUPPORTED_STATE_OPERATION", $"operation type {type} not supported"));

    private static DaprErrorException Error(Exception exception, string errorCode, string prefix) => exception switch
    {
        ETagException { Kind: ETagErrorKind.Mismatch } => new(new DaprError(StatusCodes.Status409Conflict, errorCode, $"{prefix}: {exception.Message}")),
        ETagException => new(new DaprError(StatusCodes.Status400BadRequest, errorCode, $"{prefix}: {exception.Message}")),
        DaprErrorException daprError => daprError,
        _ => new(new DaprError(StatusCodes.Status500InternalServerError, errorCode, $"{prefix}: {exception.Message}")),
    };
}
