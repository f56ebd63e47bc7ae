using Gatehouse.Hashing;
using static Gatehouse.Tests.Hashing.HasherFixtures;

namespace Gatehouse.Tests.Hashing;

/// <summary>
/// Known vectors for every import format, each generated outside Gatehouse: bcrypt by
/// libxcrypt's <c>mkpasswd</c> and Apache's <c>htpasswd</c>; argon2 by the reference <c>argon2</c>
/// CLI; crypt(3) by <c>openssl passwd</c> and <c>mkpasswd</c>; PBKDF2, scrypt, SSHA, salted digests
/// and HMAC by Python's <c>hashlib</c>/<c>hmac</c> (HMAC-MD4 by <c>openssl mac</c>); Firebase scrypt
/// from the example in Firebase's scrypt README. Unless noted the password is <see cref="HasherFixtures.Right"/>.
/// </summary>
public sealed class PasswordHasherVerifyTests
{
    private readonly PasswordHasher _hasher = Bcrypt();

    private void AssertVerifiesOnlyRightPassword(string hash, string right = Right)
    {
        Assert.True(PasswordHasher.IsKnownFormat(hash));
        Assert.True(_hasher.Verify(right, hash));
        Assert.False(_hasher.Verify(Wrong, hash));
        Assert.False(_hasher.Verify("", hash));
    }

    [Fact]
    public void Verify_accepts_imported_bcrypt_2b_hash() =>
        AssertVerifiesOnlyRightPassword("$2b$05$NL/zeDXSnSyA2HzeqHXPLeh4GSSd2rk5LkrX8f3IMnM9GxlGgPu6K");

    [Fact]
    public void Verify_accepts_imported_bcrypt_2y_hash() =>
        AssertVerifiesOnlyRightPassword("$2y$05$7dQd2N38WEz2xck3tQDtdOrPxTHV.DqDoB5AOnpZT5eXeCoQYggOe");

    [Theory]
    [InlineData("$2a$")]
    [InlineData("$2$")]
    [InlineData("$2z$")]
    public void Verify_accepts_other_bcrypt_minor_versions_like_kratos(string prefix) =>
        // Go's bcrypt, and so Kratos, ignores the minor version: all variants hash alike.
        AssertVerifiesOnlyRightPassword(prefix + "05$NL/zeDXSnSyA2HzeqHXPLeh4GSSd2rk5LkrX8f3IMnM9GxlGgPu6K");

    [Fact]
    public void Verify_rejects_passwords_over_72_bytes_for_bcrypt_like_kratos()
    {
        var hasher = Bcrypt();
        var hash = hasher.Hash(new string('a', 72));
        Assert.True(hasher.Verify(new string('a', 72), hash));
        Assert.False(hasher.Verify(new string('a', 73), hash));
    }

    [Fact]
    public void Verify_accepts_imported_argon2id_hash() =>
        AssertVerifiesOnlyRightPassword("$argon2id$v=19$m=1024,t=2,p=2$c29tZXNhbHRzb21lc2FsdA$dyH1D8A96Ow2828D1sDA+YL86LtyFdjEwiMJVWGS5Pg");

    [Fact]
    public void Verify_accepts_imported_argon2id_hash_with_a_16_byte_key() =>
        AssertVerifiesOnlyRightPassword("$argon2id$v=19$m=1024,t=1,p=1$bG9uZ3NhbHRsb25nc2FsdA$L1FpzytjfEyc7YCcCcK96g");

    [Fact]
    public void Verify_accepts_imported_argon2i_hash() =>
        AssertVerifiesOnlyRightPassword("$argon2i$v=19$m=1024,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$lb88+/fGadH75Lx8QJx2u8GQdiz4CH8SQPprk3jhsEk");

    [Fact]
    public void Verify_accepts_imported_pbkdf2_sha1_hash() =>
        AssertVerifiesOnlyRightPassword("$pbkdf2-sha1$i=1000,l=32$MDEyMzQ1Njc4OWFiY2RlZg$wmIXv0mv7iouqkc9CKjRvCX21ppxie1kqc0WMgmDj0o");

    [Fact]
    public void Verify_accepts_imported_pbkdf2_sha224_hash_as_sha3_224() =>
        AssertVerifiesOnlyRightPassword("$pbkdf2-sha224$i=1000,l=32$MDEyMzQ1Njc4OWFiY2RlZg$uS+tp1QJll7BpGfpGDQ8ovXYcyO1sSowC7cmW6+Bw3w");

    [Fact]
    public void Verify_accepts_imported_pbkdf2_sha256_hash() =>
        AssertVerifiesOnlyRightPassword("$pbkdf2-sha256$i=1000,l=32$MDEyMzQ1Njc4OWFiY2RlZg$yqSq2SygY1sB4EcH9f2FG0JTMES+wqLsOT5YmiRBplI");

    [Fact]
    public void Verify_accepts_imported_pbkdf2_sha384_hash_as_sha3_384() =>
        AssertVerifiesOnlyRightPassword("$pbkdf2-sha384$i=1000,l=32$MDEyMzQ1Njc4OWFiY2RlZg$I6OX9GNrxMQnHFDR7GXZ9/9HFpDY64YBV4SXdiyAaqU");

    [Fact]
    public void Verify_accepts_imported_pbkdf2_sha512_hash() =>
        AssertVerifiesOnlyRightPassword("$pbkdf2-sha512$i=1000,l=32$MDEyMzQ1Njc4OWFiY2RlZg$5bTW2oeyDJyGJPcmEr+mRDE11ghpozWrDGnSNhRXo2Y");

    [Theory]
    [InlineData("$pbkdf2-sha256$i=1000,l=16$MDEyMzQ1Njc4OWFiY2RlZg$yqSq2SygY1sB4EcH9f2FG0JTMES+wqLsOT5YmiRBplI")]
    [InlineData("$pbkdf2-sha256$i=1000,l=0$MDEyMzQ1Njc4OWFiY2RlZg$yqSq2SygY1sB4EcH9f2FG0JTMES+wqLsOT5YmiRBplI")]
    [InlineData("$pbkdf2-sha256$i=1000,l=4294967295$MDEyMzQ1Njc4OWFiY2RlZg$yqSq2SygY1sB4EcH9f2FG0JTMES+wqLsOT5YmiRBplI")]
    public void Verify_ignores_a_pbkdf2_l_that_differs_from_the_stored_hash_length_like_kratos(string hash) =>
        AssertVerifiesOnlyRightPassword(hash);

    [Fact]
    public void Verify_accepts_kratos_own_pbkdf2_import_test_hash_declaring_l_128_over_16_bytes() =>
        AssertVerifiesOnlyRightPassword("$pbkdf2-sha256$i=1000,l=128$e8/arsEf4cvQihdNgqj0Nw$5xQQKNTyeTHx2Ld5/JDE7A", right: "123456");

    [Fact]
    public void Verify_hashes_the_password_as_utf8() =>
        AssertVerifiesOnlyRightPassword(
            "$pbkdf2-sha256$i=1000,l=32$MDEyMzQ1Njc4OWFiY2RlZg$Kfxd4gVEVJAUWyEM9/KuB1B0aQFq+qVyrFi44QnyZ4k", right: "pässwörd");

    [Fact]
    public void Verify_falls_back_to_sha256_for_other_pbkdf2_digests_like_kratos() =>
        AssertVerifiesOnlyRightPassword("$pbkdf2-sha3$i=1000,l=32$MDEyMzQ1Njc4OWFiY2RlZg$yqSq2SygY1sB4EcH9f2FG0JTMES+wqLsOT5YmiRBplI");

    [Fact]
    public void Verify_accepts_imported_scrypt_hash_where_ln_is_n_itself() =>
        AssertVerifiesOnlyRightPassword("$scrypt$ln=1024,r=8,p=1$c2NyeXB0LXNhbHQtMTIzNA==$CiPNOKdi2HfdDYzROxW5Tqt1goDnHdny4dcTVQ4EsYM=");

    [Fact]
    public void Verify_accepts_imported_firebase_scrypt_hash_from_firebases_documented_example() =>
        AssertVerifiesOnlyRightPassword(
            "$firescrypt$ln=14,r=8,p=1$42xEC+ixf3L2lw==$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==$Bw==$jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
            right: "user1password");

    [Fact]
    public void Verify_accepts_imported_ssha_hash() =>
        AssertVerifiesOnlyRightPassword("{SSHA}+0tGNsuDePFzHCTXkDSAYANRXfpsZGFwc2FsdA==");

    [Fact]
    public void Verify_accepts_imported_ssha256_hash() =>
        AssertVerifiesOnlyRightPassword("{SSHA256}BebOSBE1U4w1JLqd8VqHIJ1F5UyZ6xfAUM6fkhIFxctsZGFwc2FsdA==");

    [Fact]
    public void Verify_accepts_imported_ssha512_hash() =>
        AssertVerifiesOnlyRightPassword("{SSHA512}jhD6V0hxZdeddRINr3/38NwWCkp5qqNhzHy62WelGZ5kqprV+KgkUwqV+dA1xhwumWtq7LWyidvzDSYJIduz7mxkYXBzYWx0");

    [Fact]
    public void Verify_accepts_imported_sha1_hash_with_salt_pattern() =>
        AssertVerifiesOnlyRightPassword("$sha1$pf=e1NBTFR9e1BBU1NXT1JEfQ==$c2hhc2FsdA==$Yzf4rFPUi94tZfa+nVUhEfTBSpA=");

    [Fact]
    public void Verify_accepts_imported_sha256_hash_with_salt_pattern() =>
        AssertVerifiesOnlyRightPassword("$sha256$pf=e1NBTFR9e1BBU1NXT1JEfQ==$c2hhc2FsdA==$c6SPDQ7wmhZrCGSwmDmRqXpc1ulEl7AvOmSnwNi4Lno=");

    [Fact]
    public void Verify_accepts_imported_sha512_hash_with_salt_pattern() =>
        AssertVerifiesOnlyRightPassword("$sha512$pf=e1NBTFR9e1BBU1NXT1JEfQ==$c2hhc2FsdA==$aQK7aa99WX6D2hIdJXw+BkPomAm5t7IaxVGmBllhS5P2hALU/d6ZnqbYRdymPjOXyScmnZetJWrePpm3/haewQ==");

    [Fact]
    public void Verify_substitutes_every_placeholder_in_the_salt_pattern() =>
        // Pattern "{PASSWORD}:{SALT}:{PASSWORD}".
        AssertVerifiesOnlyRightPassword("$sha256$pf=e1BBU1NXT1JEfTp7U0FMVH06e1BBU1NXT1JEfQ==$c2hhc2FsdA==$DZTW8NFq0w1apPS6CPCb88Oiq4y1RhGS20KXbbhuTdM=");

    [Fact]
    public void Verify_accepts_imported_plain_md5_hash() =>
        AssertVerifiesOnlyRightPassword("$md5$nMKuihunqT2jm0b8EBnEgQ==");

    [Fact]
    public void Verify_accepts_the_plain_md5_example_from_kratos_docs() =>
        AssertVerifiesOnlyRightPassword("$md5$CY9rzUYh03PK3k6DJie09g==", right: "test");

    [Fact]
    public void Verify_accepts_imported_md5_hash_with_salt_pattern() =>
        AssertVerifiesOnlyRightPassword("$md5$pf=e1NBTFR9e1BBU1NXT1JEfQ==$c2hhc2FsdA==$eicTQUyEWQg/5JdPvptrOQ==");

    [Fact]
    public void Verify_accepts_imported_md5_crypt_hash() =>
        AssertVerifiesOnlyRightPassword("$md5-crypt$saltsalt$BsXyQbZiQujHkdhwPwdol.");

    [Fact]
    public void Verify_accepts_imported_md5_crypt_hash_with_empty_salt() =>
        AssertVerifiesOnlyRightPassword("$md5-crypt$$zoYVCpjXXFW7mz9BsFHro.");

    [Fact]
    public void Verify_accepts_imported_sha256_crypt_hash() =>
        AssertVerifiesOnlyRightPassword("$sha256-crypt$saltstringsaltst$wTbXaKiaW9iZ94.0kBRpTsvmaTF5d0/hyaXiYx5XQX.");

    [Fact]
    public void Verify_accepts_imported_sha512_crypt_hash() =>
        AssertVerifiesOnlyRightPassword("$sha512-crypt$saltstringsaltst$3h7STkr0i0iXKtx9L6TPkhN5v1rUiPkJUiG7sipbycYgc02MpmEFKyRup0K0pREhLJoUsSkK7VK674mqHcID//");

    [Fact]
    public void Verify_accepts_imported_sha512_crypt_hash_with_explicit_rounds() =>
        AssertVerifiesOnlyRightPassword("$sha512-crypt$rounds=10000$roundsalt$RcHhYzGrzAPq/3yMNPm0yiKS8zHOH0qMQS8aj9SLWfs1KquYeVFuu5yBZGQ3V5BSvd09LsG7q9.9BoniGhQUM/");

    [Fact]
    public void Verify_accepts_imported_hmac_md4_hash() =>
        AssertVerifiesOnlyRightPassword("$hmac-md4$ZWQzNzRjMzRjMWYyMDU5MzdlODZlMDY0MzZjOGQxYjM=$aG1hYy1zZWNyZXQta2V5");

    [Fact]
    public void Verify_accepts_imported_hmac_md5_hash() =>
        AssertVerifiesOnlyRightPassword("$hmac-md5$N2I4ODEzMWRjMjY2ZWJmNTRjYjJmNTMwYTE1YWM3YjQ=$aG1hYy1zZWNyZXQta2V5");

    [Fact]
    public void Verify_accepts_imported_hmac_sha1_hash() =>
        AssertVerifiesOnlyRightPassword("$hmac-sha1$ZGE1NjU5Yzk1MjcxOGNlM2M2Y2M2ZTdkNzZmM2VhMWIxZGI5NDJkZQ==$aG1hYy1zZWNyZXQta2V5");

    [Fact]
    public void Verify_accepts_imported_hmac_sha224_hash_as_sha2_224() =>
        AssertVerifiesOnlyRightPassword("$hmac-sha224$Y2JiYjQzYjk5ZDY3NGNiNjNhZDI2MmFiYTNmN2UwZjlmMWNkNzZhNWQ2NWE0MjlhNmE2NTg0ZTY=$aG1hYy1zZWNyZXQta2V5");

    [Fact]
    public void Verify_accepts_imported_hmac_sha256_hash() =>
        AssertVerifiesOnlyRightPassword("$hmac-sha256$MTJhY2M1YjRlNzQ3N2VlNGUyMGQ5NWU5NTQ3OGZmOGRhYWJjMzVkYTg4NjkyOTIxN2ZiN2E5YWJkN2M2ZWExZg==$aG1hYy1zZWNyZXQta2V5");

    [Fact]
    public void Verify_accepts_imported_hmac_sha384_hash() =>
        AssertVerifiesOnlyRightPassword("$hmac-sha384$ODAzYzE3MTI2NmUyY2QwMTQyZTAwYjU0NWE0OTY3MmE0Yjg2ZjE0NWIxNWYyYWMxODk0YzMwNmUzZjc2ZWRlM2ZmZmEyNWNmODQzNmJlZTI2NTMyMDI5NDhlNzcxYTc3$aG1hYy1zZWNyZXQta2V5");

    [Fact]
    public void Verify_accepts_imported_hmac_sha512_hash() =>
        AssertVerifiesOnlyRightPassword("$hmac-sha512$YjBmMWEyNjkzNmI2OGJjZTU1YzI2ZDkxOWE5ODQ3NmIxMzU4Njk3MGEzOThmYzVmOGE0NWYyOWY2OTNjZTY4ZDU1YTEzMDlhMTE5NDg0NGIzZDk2ZGQ0ZDlkYzA3MTE2MjNkMjEwZmZhYTNjMmEwYjBkZmJiZDI2NzgxODRmMjQ=$aG1hYy1zZWNyZXQta2V5");

    [Fact]
    public void Verify_compares_the_lower_case_hex_digest_for_hmac_like_kratos()
    {
        // The same HMAC-SHA256 as above with its hex digest spelt in upper case.
        var upper = "$hmac-sha256$" + Convert.ToBase64String("12ACC5B4E7477EE4E20D95E95478FF8DAABC35DA886929217FB7A9ABD7C6EA1F"u8) + "$aG1hYy1zZWNyZXQta2V5";
        Assert.False(_hasher.Verify(Right, upper));
    }

    [Fact]
    public void Verify_accepts_any_format_whatever_hasher_is_configured()
    {
        var argon2 = Argon2();
        Assert.True(argon2.Verify(Right, "$2b$05$NL/zeDXSnSyA2HzeqHXPLeh4GSSd2rk5LkrX8f3IMnM9GxlGgPu6K"));
        Assert.True(argon2.Verify(Right, "$md5$nMKuihunqT2jm0b8EBnEgQ=="));
    }
}
