using System.Buffers.Binary;
using System.Buffers.Text;
using System.Diagnostics;
using System.Formats.Cbor;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Fido2NetLib.Objects;
using Gatehouse.SelfService.Strategies.WebAuthn;

namespace Gatehouse.Bench;

/// <summary>
/// Server CPU of one WebAuthn assertion verification, in process: <see cref="WebAuthnRelyingParty.FinishAssertionAsync"/>
/// (parse the browser's JSON, check challenge, origin, RP id hash, flags, ES256 signature, sign count) on a thread of its
/// own, timed by that thread's CPU clock, with answers signed beforehand by a software authenticator (P-256), so only the
/// server's work is measured. Also the cost of making the options (<see cref="WebAuthnRelyingParty.BeginAssertion"/>).
/// </summary>
internal static class WebAuthnBenchmark
{
    public const string Origin = "https://auth.example.com";

    /// <summary>Mean thread CPU of one verification over <paramref name="count"/> (after a warm-up), in ms.</summary>
    public static async Task<double> CpuPerVerificationAsync(int count)
    {
        var (cpu, _, _) = await MeasureAsync(count);
        return cpu.TotalMilliseconds / count;
    }

    public static async Task<string> RunAsync(int count)
    {
        var (cpu, samples, beginCpuEach) = await MeasureAsync(count);
        string Ms(double v) => v.ToString("0.000", CultureInfo.InvariantCulture) + " ms";
        var md = new StringBuilder();
        md.AppendLine("| measure | value |").AppendLine("|---|---|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| assertions verified | {count} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| CPU per verification (thread CPU clock, mean) | {Ms(cpu.TotalMilliseconds / count)} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| wall per verification, median | {Ms(samples[count / 2])} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| wall per verification, p99 | {Ms(samples[(int)(count * 0.99)])} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| CPU per BeginAssertion + test signature (upper bound for making options) | {Ms(beginCpuEach.TotalMilliseconds)} |");
        return md.ToString();
    }

    /// <summary>The thread CPU of <paramref name="count"/> verifications, their sorted wall times, and the CPU of making one ceremony.</summary>
    private static async Task<(TimeSpan Cpu, double[] Samples, TimeSpan BeginCpuEach)> MeasureAsync(int count)
    {
        var rp = new WebAuthnRelyingParty("example.com", "Example", [Origin]);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var credentialId = RandomNumberGenerator.GetBytes(16);
        var handle = Encoding.ASCII.GetBytes("bench-user-handle");
        var stored = new WebAuthnKey { Id = credentialId, PublicKey = CosePublicKey(key), IsPasswordless = true, AddedAt = DateTime.UtcNow };

        // Answers are made up front: one ceremony (options + signed answer) per verification.
        var ceremonies = new List<(string State, string Answer)>(count);
        var beginCpu = ThreadCpu();
        for (var i = 0; i < count; i++)
        {
            var (options, state) = rp.BeginAssertion([], UserVerificationRequirement.Preferred);
            ceremonies.Add((state, Sign(key, credentialId, handle, options["publicKey"]!["challenge"]!.GetValue<string>(), (uint)i + 1)));
        }
        var beginCpuEach = (ThreadCpu() - beginCpu) / count; // includes signing, an upper bound for BeginAssertion

        // Warm-up (JIT, first allocations), then the measured loop; every verification must succeed.
        for (var i = 0; i < Math.Min(200, count / 10); i++)
            _ = await rp.FinishAssertionAsync(ceremonies[i].State, ceremonies[i].Answer, [stored], handle, DateTime.UtcNow, CancellationToken.None);
        stored.SignCount = 0;
        var samples = new double[count];
        var cpuStart = ThreadCpu();
        for (var i = 0; i < count; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            var result = await rp.FinishAssertionAsync(ceremonies[i].State, ceremonies[i].Answer, [stored], handle, DateTime.UtcNow, CancellationToken.None);
            samples[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (result.Value is null) throw new InvalidOperationException($"verification {i} failed: {result.Reason}");
        }
        var cpu = ThreadCpu() - cpuStart;
        Array.Sort(samples);
        return (cpu, samples, beginCpuEach);
    }

    // The calling thread's CPU time (Linux: /proc/thread-self/stat, utime + stime in clock ticks of 10 ms, so loops are long).
    internal static TimeSpan ThreadCpu()
    {
        var stat = File.ReadAllText("/proc/thread-self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    internal static byte[] CosePublicKey(ECDsa key)
    {
        var p = key.ExportParameters(false);
        var cose = new CborWriter(CborConformanceMode.Ctap2Canonical);
        cose.WriteStartMap(5);
        cose.WriteInt32(1); cose.WriteInt32(2);
        cose.WriteInt32(3); cose.WriteInt32(-7);
        cose.WriteInt32(-1); cose.WriteInt32(1);
        cose.WriteInt32(-2); cose.WriteByteString(p.Q.X!);
        cose.WriteInt32(-3); cose.WriteByteString(p.Q.Y!);
        cose.WriteEndMap();
        return cose.Encode();
    }

    internal static string Sign(ECDsa key, byte[] credentialId, byte[] handle, string challenge, uint count)
    {
        var clientData = Encoding.UTF8.GetBytes(new JsonObject { ["type"] = "webauthn.get", ["challenge"] = challenge, ["origin"] = Origin }.ToJsonString());
        var counter = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(counter, count);
        byte[] authData = [.. SHA256.HashData("example.com"u8), 0x05, .. counter];
        var signature = key.SignData([.. authData, .. SHA256.HashData(clientData)], HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return new JsonObject
        {
            ["id"] = Base64Url.EncodeToString(credentialId),
            ["rawId"] = Base64Url.EncodeToString(credentialId),
            ["type"] = "public-key",
            ["response"] = new JsonObject
            {
                ["authenticatorData"] = Base64Url.EncodeToString(authData),
                ["clientDataJSON"] = Base64Url.EncodeToString(clientData),
                ["signature"] = Base64Url.EncodeToString(signature),
                ["userHandle"] = Base64Url.EncodeToString(handle),
            },
        }.ToJsonString();
    }
}
