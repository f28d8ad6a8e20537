namespace CloudScale.Workflow.Engine;

/// <summary>daprd's rules for instance IDs: at most 64 letters, digits, '_' and '-' (which also keeps them safe in state keys).</summary>
internal static class InstanceIds
{
    public const int MaxLength = 64;

    public static bool IsTooLong(string instanceId) => instanceId.Length > MaxLength;

    public static bool IsValid(string instanceId) =>
        instanceId.Length > 0 && instanceId.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    public static string TooLongMessage => $"workflow instance ID exceeds the max length of {MaxLength} characters";

    public static string InvalidMessage(string instanceId) =>
        $"workflow instance ID '{instanceId}' is invalid: only alphanumeric and underscore characters are allowed";

    public static void ThrowIfInvalid(string instanceId)
    {
        if (IsTooLong(instanceId))
        {
            throw new ArgumentException(TooLongMessage, nameof(instanceId));
        }

        if (!IsValid(instanceId))
        {
            throw new ArgumentException(InvalidMessage(instanceId), nameof(instanceId));
        }
    }
}
