using Gatehouse.Hashing;
using static Gatehouse.Tests.Hashing.HasherFixtures;

namespace Gatehouse.Tests.Hashing;

public sealed class MalformedHashTests
{
    public static TheoryData<string> UnknownOrMalformed => new()
    {
        "",
        "plaintext",
        "$unknown$abc",
        "$2x$05$NL/zeDXSnSyA2HzeqHXPLeh4GSSd2rk5LkrX8f3IMnM9GxlGgPu6K",
        "$2b$05$NL/zeDXSnSyA2HzeqHXPLeh4GSSd2rk5LkrX8f3IMnM9GxlGgPu6",
        "$2b$5$NL/zeDXSnSyA2HzeqHXPLeh4GSSd2rk5LkrX8f3IMnM9GxlGgPu6K",
        "$2b$03$NL/zeDXSnSyA2HzeqHXPLeh4GSSd2rk5LkrX8f3IMnM9GxlGgPu6K",
        "$2b$05$NL/zeDXSnSyA2HzeqHXPLeh4GSSd2rk5LkrX8f3IMnM9GxlGgPu6K$",
        "$argon2id$v=19$m=1024,t=2,p=2$c29tZXNhbHRzb21lc2FsdA",
        "$argon2id$v=16$m=1024,t=2,p=2$c29tZXNhbHRzb21lc2FsdA$dyH1D8A96Ow2828D1sDA+YL86LtyFdjEwiMJVWGS5Pg",
        "$argon2id$v=19$m=1024,t=0,p=2$c29tZXNhbHRzb21lc2FsdA$dyH1D8A96Ow2828D1sDA+YL86LtyFdjEwiMJVWGS5Pg",
        "$argon2id$v=19$m=0,t=1,p=2$c29tZXNhbHRzb21lc2FsdA$dyH1D8A96Ow2828D1sDA+YL86LtyFdjEwiMJVWGS5Pg",
        "$argon2id$v=19$t=2,m=1024,p=2$c29tZXNhbHRzb21lc2FsdA$dyH1D8A96Ow2828D1sDA+YL86LtyFdjEwiMJVWGS5Pg",
        "$argon2id$v=19$m=-1024,t=2,p=2$c29tZXNhbHRzb21lc2FsdA$dyH1D8A96Ow2828D1sDA+YL86LtyFdjEwiMJVWGS5Pg",
        "$argon2id$v=19$m=1024,t=2,p=2$c29tZXNhbHRzb21lc2FsdA==$dyH1D8A96Ow2828D1sDA+YL86LtyFdjEwiMJVWGS5Pg",
        "$argon2id$v=19$m=1024,t=2,p=2$c29tZXNh!HRzb21lc2FsdA$dyH1D8A96Ow2828D1sDA+YL86LtyFdjEwiMJVWGS5Pg",
        "$argon2d$v=19$m=1024,t=2,p=2$c29tZXNhbHRzb21lc2FsdA$dyH1D8A96Ow2828D1sDA+YL86LtyFdjEwiMJVWGS5Pg",
        "$pbkdf2-sha256$i=1000,l=4294967296$MDEyMzQ1Njc4OWFiY2RlZg$yqSq2SygY1sB4EcH9f2FG0JTMES+wqLsOT5YmiRBplI",
        "$pbkdf2-sha256$i=0,l=32$MDEyMzQ1Njc4OWFiY2RlZg$yqSq2SygY1sB4EcH9f2FG0JTMES+wqLsOT5YmiRBplI",
        "$pbkdf2-sha256$l=32,i=1000$MDEyMzQ1Njc4OWFiY2RlZg$yqSq2SygY1sB4EcH9f2FG0JTMES+wqLsOT5YmiRBplI",
        "$pbkdf2-md5$i=1000,l=32$MDEyMzQ1Njc4OWFiY2RlZg$yqSq2SygY1sB4EcH9f2FG0JTMES+wqLsOT5YmiRBplI",
        "$scrypt$ln=1000,r=8,p=1$c2NyeXB0LXNhbHQtMTIzNA==$CiPNOKdi2HfdDYzROxW5Tqt1goDnHdny4dcTVQ4EsYM=",
        "$scrypt$ln=1024,r=0,p=1$c2NyeXB0LXNhbHQtMTIzNA==$CiPNOKdi2HfdDYzROxW5Tqt1goDnHdny4dcTVQ4EsYM=",
        "$scrypt$ln=1024,r=8,p=1$c2NyeXB0LXNhbHQtMTIzNA$CiPNOKdi2HfdDYzROxW5Tqt1goDnHdny4dcTVQ4EsYM",
        "$firescrypt$ln=14,r=8,p=1$42xEC+ixf3L2lw==$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==$Bw==",
        "$firescrypt$ln=0,r=8,p=1$42xEC+ixf3L2lw==$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==$Bw==$Bw==",
        "{SSHA}",
        "{SSHA}+0tGNsuDePFzHCTXkDSAYANRXfo=",
        "{SSHA384}+0tGNsuDePFzHCTXkDSAYANRXfpsZGFwc2FsdA==",
        "{SSHA}+0tGNsuDePFzHCTXkDSAYANRXfpsZGFwc2FsdA",
        "$sha1$e1NBTFR9e1BBU1NXT1JEfQ==$c2hhc2FsdA==$Yzf4rFPUi94tZfa+nVUhEfTBSpA=",
        "$sha1$pf=e1NBTFR9e1BBU1NXT1JEfQ==$c2hhc2FsdA==",
        "$sha384$pf=e1NBTFR9e1BBU1NXT1JEfQ==$c2hhc2FsdA==$Yzf4rFPUi94tZfa+nVUhEfTBSpA=",
        "$sha1$nMKuihunqT2jm0b8EBnEgQ==",
        "$md5$",
        "$md5$nMKuihunqT2jm0b8EBnEgQ",
        "$md5$pf=e1NBTFR9e1BBU1NXT1JEfQ==$eicTQUyEWQg/5JdPvptrOQ==",
        "$md5-crypt$saltsalt$BsXyQbZiQujHkdhwPwdol",
        "$md5-crypt$saltsaltx$BsXyQbZiQujHkdhwPwdol.",
        "$md5-crypt$saltsalt$BsXyQbZiQujHkdhwPwdol.$",
        "$sha256-crypt$rounds=999$saltstringsaltst$wTbXaKiaW9iZ94.0kBRpTsvmaTF5d0/hyaXiYx5XQX.",
        "$sha256-crypt$rounds=$saltstringsaltst$wTbXaKiaW9iZ94.0kBRpTsvmaTF5d0/hyaXiYx5XQX.",
        "$sha256-crypt$saltstringsaltstr$wTbXaKiaW9iZ94.0kBRpTsvmaTF5d0/hyaXiYx5XQX.",
        "$sha512-crypt$saltstringsaltst$wTbXaKiaW9iZ94.0kBRpTsvmaTF5d0/hyaXiYx5XQX.",
        "$sha256-crypt$saltstringsaltst$wTbXaKiaW9iZ94+0kBRpTsvmaTF5d0/hyaXiYx5XQX.",
        "$hmac-sha3$MTJhY2M1YjRlNzQ3N2VlNGUyMGQ5NWU5NTQ3OGZmOGRhYWJjMzVkYTg4NjkyOTIxN2ZiN2E5YWJkN2M2ZWExZg==$aG1hYy1zZWNyZXQta2V5",
        "$hmac-sha256$MTJhY2M1YjRlNzQ3N2VlNGUyMGQ5NWU5NTQ3OGZmOGRhYWJjMzVkYTg4NjkyOTIxN2ZiN2E5YWJkN2M2ZWExZg==",
        "$hmac-sha256$MTJhY2M1YjRlNzQ3N2VlNGUyMGQ5NWU5NTQ3OGZmOGRhYWJjMzVkYTg4NjkyOTIxN2ZiN2E5YWJkN2M2ZWExZg==$aG1hYy1zZWNyZXQta2V5$",
        "$hmac-sha256$$aG1hYy1zZWNyZXQta2V5",
    };

    [Theory]
    [MemberData(nameof(UnknownOrMalformed))]
    public void Verify_returns_false_for_unknown_or_malformed_hashes(string hash)
    {
        Assert.False(Bcrypt().Verify(Right, hash));
        Assert.False(Argon2().Verify(Right, hash));
    }

    [Theory]
    [MemberData(nameof(UnknownOrMalformed))]
    public void IsKnownFormat_is_false_for_unknown_or_malformed_hashes(string hash) =>
        Assert.False(PasswordHasher.IsKnownFormat(hash));

    [Fact]
    public void Verify_returns_false_for_null_arguments()
    {
        var hasher = Bcrypt();
        Assert.False(hasher.Verify(null!, "$md5$nMKuihunqT2jm0b8EBnEgQ=="));
        Assert.False(hasher.Verify(Right, null!));
        Assert.False(PasswordHasher.IsKnownFormat(null!));
    }

    [Fact]
    public void Verify_returns_false_for_hashes_above_the_cost_bounds_without_computing_them()
    {
        // Scrypt with N = 2^30 would need 1 GiB per r; the bound refuses it up front.
        var hash = "$scrypt$ln=1073741824,r=8,p=1$c2NyeXB0LXNhbHQtMTIzNA==$CiPNOKdi2HfdDYzROxW5Tqt1goDnHdny4dcTVQ4EsYM=";
        Assert.True(PasswordHasher.IsKnownFormat(hash));
        Assert.False(Bcrypt().Verify(Right, hash));
    }

    public static TheoryData<string> WellFormedEdgeCases => new()
    {
        // Under 8 KiB per lane: Go's argon2 accepts it, the RFC asks for 8 KiB.
        "$argon2id$v=19$m=8,t=1,p=2$c29tZXNhbHRzb21lc2FsdA$dyH1D8A96Ow2828D1sDA+YL86LtyFdjEwiMJVWGS5Pg",
        // One-byte salt: Go's argon2 accepts it, the RFC asks for 8.
        "$argon2id$v=19$m=64,t=1,p=1$YQ$dyH1D8A96Ow2828D1sDA+YL86LtyFdjEwiMJVWGS5Pg",
        // Empty salt and empty key.
        "$pbkdf2-sha256$i=1,l=32$$yqSq2SygY1sB4EcH9f2FG0JTMES+wqLsOT5YmiRBplI",
        "$pbkdf2-sha384$i=1,l=32$$yqSq2SygY1sB4EcH9f2FG0JTMES+wqLsOT5YmiRBplI",
        "$hmac-md4$ZWQzNzRjMzRjMWYyMDU5MzdlODZlMDY0MzZjOGQxYjM=$",
        "$hmac-sha256$MTJhY2M1YjRlNzQ3N2VlNGUyMGQ5NWU5NTQ3OGZmOGRhYWJjMzVkYTg4NjkyOTIxN2ZiN2E5YWJkN2M2ZWExZg==$",
        // scrypt refuses N >= 2^(16r); r=1 allows at most 2^15.
        "$scrypt$ln=131072,r=1,p=1$c2NyeXB0LXNhbHQtMTIzNA==$CiPNOKdi2HfdDYzROxW5Tqt1goDnHdny4dcTVQ4EsYM=",
        "$scrypt$ln=1024,r=8,p=1$$CiPNOKdi2HfdDYzROxW5Tqt1goDnHdny4dcTVQ4EsYM=",
        // Empty signer key and separator.
        "$firescrypt$ln=4,r=8,p=1$42xEC+ixf3L2lw==$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==$$",
        "$sha1$pf=$$Yzf4rFPUi94tZfa+nVUhEfTBSpA=",
        "$sha256-crypt$rounds=1000$$wTbXaKiaW9iZ94.0kBRpTsvmaTF5d0/hyaXiYx5XQX.",
    };

    [Theory]
    [MemberData(nameof(WellFormedEdgeCases))]
    public void Verify_returns_false_without_throwing_for_well_formed_edge_cases(string hash)
    {
        Assert.True(PasswordHasher.IsKnownFormat(hash));
        Assert.False(Bcrypt().Verify(Right, hash));
    }
}
