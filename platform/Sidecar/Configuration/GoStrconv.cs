namespace CloudScale.Sidecar.Configuration;

/// <summary>Go's <c>strconv</c> parsing, which daprd and contrib apply to metadata strings.</summary>
internal static class GoStrconv
{
    /// <summary><c>strconv.ParseBool</c>: 1, t, T, TRUE, true, True and their false counterparts; nothing else.</summary>
    public static bool TryParseBool(string text, out bool value)
    {
        switch (text)
        {
            case "1" or "t" or "T" or "TRUE" or "true" or "True":
                value = true;
                return true;
            case "0" or "f" or "F" or "FALSE" or "false" or "False":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }
}
