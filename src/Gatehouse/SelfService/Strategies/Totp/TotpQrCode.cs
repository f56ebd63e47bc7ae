using QRCoder;

namespace Gatehouse.SelfService.Strategies.Totp;

/// <summary>The enrolment QR code as Kratos's <c>totp_qr</c> node carries it: a PNG data URI of the key URL.</summary>
public static class TotpQrCode
{
    public static string DataUri(string keyUrl)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(keyUrl, QRCodeGenerator.ECCLevel.M);
        // 8 px per module: about 330 px for a typical key URL, shown at Kratos's 256×256.
        var png = new PngByteQRCode(data).GetGraphic(8);
        return "data:image/png;base64," + Convert.ToBase64String(png);
    }
}
