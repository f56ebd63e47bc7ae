using System.Globalization;
using System.Text;
using Gatehouse.Http.Errors;
using Gatehouse.Http.Pagination;

namespace Gatehouse.Sessions;

/// <summary>
/// The admin session list's keyset token, in Kratos's form: base64 (standard alphabet, no padding) of
/// <c>created_at=2006-01-02 15:04:05.9999999/id=&lt;uuid&gt;</c>. Gatehouse writes seven fractional digits so no
/// session is skipped; tokens Kratos wrote (five digits) are read too.
/// </summary>
public static class SessionPageToken
{
    private const string TimeFormat = "yyyy-MM-dd HH:mm:ss.FFFFFFF";

    public static string Encode(DateTime createdAt, Guid id)
    {
        var text = $"created_at={DateTime.SpecifyKind(createdAt, DateTimeKind.Utc).ToString(TimeFormat, CultureInfo.InvariantCulture).TrimEnd('.')}/id={id}";
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=');
    }

    public static (DateTime CreatedAt, Guid Id) Decode(string token)
    {
        try
        {
            var padded = token.Length % 4 == 0 ? token : token + new string('=', 4 - token.Length % 4);
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(padded));
            DateTime? createdAt = null;
            Guid? id = null;
            foreach (var part in text.Split('/'))
            {
                var eq = part.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0) continue;
                var (key, value) = (part[..eq], part[(eq + 1)..]);
                if (key == "created_at" && DateTime.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t)) createdAt = t;
                else if (key == "id" && Guid.TryParse(value, out var g)) id = g;
            }
            if (createdAt is { } c && id is { } i) return (c, i);
        }
        catch (FormatException)
        {
            // Falls through to the 400 below.
        }
        throw GatehouseError.BadRequest(KeysetPage.InvalidToken);
    }
}
