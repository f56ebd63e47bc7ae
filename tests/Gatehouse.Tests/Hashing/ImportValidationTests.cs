using Gatehouse.Hashing;

namespace Gatehouse.Tests.Hashing;

public sealed class ImportValidationTests
{
    [Theory]
    [InlineData("$2b$05$NL/zeDXSnSyA2HzeqHXPLeh4GSSd2rk5LkrX8f3IMnM9GxlGgPu6K")]
    [InlineData("$2a$15$NL/zeDXSnSyA2HzeqHXPLeh4GSSd2rk5LkrX8f3IMnM9GxlGgPu6K")]
    [InlineData("$argon2id$v=19$m=1048576,t=10,p=16$c29tZXNhbHRzb21lc2FsdA$dyH1D8A96Ow2828D1sDA+YL86LtyFdjEwiMJVWGS5Pg")]
    [InlineData("$argon2i$v=19$m=1024,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$lb88+/fGadH75Lx8QJx2u8GQdiz4CH8SQPprk3jhsEk")]
    [InlineData("$pbkdf2-sha256$i=10000000,l=32$MDEyMzQ1Njc4OWFiY2RlZg$yqSq2SygY1sB4EcH9f2FG0JTMES+wqLsOT5YmiRBplI")]
    [InlineData("$scrypt$ln=131072,r=8,p=10$c2NyeXB0LXNhbHQtMTIzNA==$CiPNOKdi2HfdDYzROxW5Tqt1goDnHdny4dcTVQ4EsYM=")]
    [InlineData("$firescrypt$ln=17,r=8,p=1$42xEC+ixf3L2lw==$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==$Bw==$Bw==")]
    [InlineData("{SSHA}+0tGNsuDePFzHCTXkDSAYANRXfpsZGFwc2FsdA==")]
    [InlineData("$sha1$pf=e1NBTFR9e1BBU1NXT1JEfQ==$c2hhc2FsdA==$Yzf4rFPUi94tZfa+nVUhEfTBSpA=")]
    [InlineData("$md5$nMKuihunqT2jm0b8EBnEgQ==")]
    [InlineData("$md5-crypt$saltsalt$BsXyQbZiQujHkdhwPwdol.")]
    [InlineData("$sha512-crypt$rounds=10000$roundsalt$RcHhYzGrzAPq/3yMNPm0yiKS8zHOH0qMQS8aj9SLWfs1KquYeVFuu5yBZGQ3V5BSvd09LsG7q9.9BoniGhQUM/")]
    [InlineData("$hmac-md4$ZWQzNzRjMzRjMWYyMDU5MzdlODZlMDY0MzZjOGQxYjM=$aG1hYy1zZWNyZXQta2V5")]
    public void ValidateImport_accepts_known_formats_within_the_bounds(string hash)
    {
        var check = PasswordHasher.ValidateImport(hash);
        Assert.True(check.IsValid, check.Error);
        Assert.Null(check.Error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("hunter2")]
    [InlineData("$unknown$abc")]
    [InlineData("$2a$12$tooshort")]
    [InlineData("{SSHA}not base64!")]
    public void ValidateImport_rejects_unknown_or_malformed_hashes_with_the_kratos_message(string hash)
    {
        var check = PasswordHasher.ValidateImport(hash);
        Assert.False(check.IsValid);
        Assert.Equal("The imported password does not match any known hash format.", check.Error);
    }

    [Theory]
    [InlineData("$2a$16$NL/zeDXSnSyA2HzeqHXPLeh4GSSd2rk5LkrX8f3IMnM9GxlGgPu6K", "bcrypt cost 16")]
    [InlineData("$argon2id$v=19$m=1048577,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$dyH1D8A96Ow2828D1sDA+YL86LtyFdjEwiMJVWGS5Pg", "argon2 memory")]
    [InlineData("$argon2id$v=19$m=1024,t=11,p=1$c29tZXNhbHRzb21lc2FsdA$dyH1D8A96Ow2828D1sDA+YL86LtyFdjEwiMJVWGS5Pg", "argon2 iterations")]
    [InlineData("$argon2i$v=19$m=1024,t=1,p=17$c29tZXNhbHRzb21lc2FsdA$dyH1D8A96Ow2828D1sDA+YL86LtyFdjEwiMJVWGS5Pg", "argon2 parallelism")]
    [InlineData("$argon2id$v=19$m=99999999999999999999999,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$dyH1D8A96Ow2828D1sDA+YL86LtyFdjEwiMJVWGS5Pg", "argon2 memory")]
    [InlineData("$pbkdf2-sha512$i=10000001,l=32$MDEyMzQ1Njc4OWFiY2RlZg$5bTW2oeyDJyGJPcmEr+mRDE11ghpozWrDGnSNhRXo2Y", "pbkdf2 iterations")]
    [InlineData("$scrypt$ln=262144,r=8,p=1$c2NyeXB0LXNhbHQtMTIzNA==$CiPNOKdi2HfdDYzROxW5Tqt1goDnHdny4dcTVQ4EsYM=", "scrypt N=262144")]
    [InlineData("$scrypt$ln=1024,r=9,p=1$c2NyeXB0LXNhbHQtMTIzNA==$CiPNOKdi2HfdDYzROxW5Tqt1goDnHdny4dcTVQ4EsYM=", "scrypt r=9")]
    [InlineData("$scrypt$ln=1024,r=8,p=11$c2NyeXB0LXNhbHQtMTIzNA==$CiPNOKdi2HfdDYzROxW5Tqt1goDnHdny4dcTVQ4EsYM=", "scrypt p=11")]
    [InlineData("$firescrypt$ln=18,r=8,p=1$42xEC+ixf3L2lw==$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==$Bw==$Bw==", "firescrypt N=262144")]
    [InlineData("$sha512-crypt$rounds=10000001$roundsalt$RcHhYzGrzAPq/3yMNPm0yiKS8zHOH0qMQS8aj9SLWfs1KquYeVFuu5yBZGQ3V5BSvd09LsG7q9.9BoniGhQUM/", "sha-crypt rounds")]
    public void ValidateImport_rejects_cost_parameters_above_the_bounds(string hash, string detail)
    {
        var check = PasswordHasher.ValidateImport(hash);
        Assert.False(check.IsValid);
        Assert.StartsWith(
            "The imported password hash declares cost parameters that exceed the bounds enforced by Gatehouse: ",
            check.Error, StringComparison.Ordinal);
        Assert.Contains(detail, check.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_allows_the_configured_parameters_even_above_the_import_bounds()
    {
        // An operator may configure more than 10 argon2 passes; hashes Gatehouse made must keep
        // verifying even though the same hash offered for import is refused.
        var configured = HasherFixtures.Argon2(memoryKiB: 16, iterations: 11);
        var hash = configured.Hash(HasherFixtures.Right);

        Assert.False(PasswordHasher.ValidateImport(hash).IsValid);
        Assert.True(configured.Verify(HasherFixtures.Right, hash));
        Assert.False(HasherFixtures.Argon2(memoryKiB: 16, iterations: 1).Verify(HasherFixtures.Right, hash));
    }
}
