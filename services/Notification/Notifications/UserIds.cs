namespace CloudScale.Notification.Notifications;

/// <summary>A user is the <c>customerId</c> of the order events: any text of 1 to <see cref="MaxLength"/> characters, as Booking accepts.</summary>
internal static class UserIds
{
    public const int MaxLength = 100;

    public static bool IsValid(string? userId) => !string.IsNullOrWhiteSpace(userId) && userId.Length <= MaxLength;
}
