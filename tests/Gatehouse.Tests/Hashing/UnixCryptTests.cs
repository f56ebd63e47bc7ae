using System.Security.Cryptography;
using System.Text;
using Gatehouse.Hashing;

namespace Gatehouse.Tests.Hashing;

/// <summary>
/// The hand-written crypt(3) schemes against vectors from Drepper's SHA-crypt specification and
/// from <c>openssl passwd -1/-5/-6</c> and <c>mkpasswd</c> on this machine.
/// </summary>
public sealed class UnixCryptTests
{
    [Theory]
    [InlineData("Hello world!", "saltstring", 5000, "5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5")]
    [InlineData("Hello world!", "saltstringsaltst", 10000, "3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA")]
    [InlineData("Hello world!", "saltstringsaltst", 4999, "iSEvMsGVTMxCivFocGPnwqAzsNx8PTW8crV6I/y5Ax3")]
    [InlineData("Hello world!", "x", 5000, "Z/ol6rg0oZtxDgF.6L1cvXsK0GGwl5bZohdStRcE8P6")]
    public void Sha256_crypt_matches_published_vectors(string password, string salt, int rounds, string checksum) =>
        Assert.Equal(checksum, UnixCrypt.ShaChecksum(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(password), Encoding.UTF8.GetBytes(salt), rounds));

    [Theory]
    [InlineData("Hello world!", "saltstring", 5000, "svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1")]
    [InlineData("pässwörd", "utf8salt", 5000, "Nf6juS0Q3mv0f53eB4BVd6Njt8ABkI/Nw9Yqy9ZA65U6sGRcr2ajrL8Kwlq2SfdEvHi3Rhn/AVzWRrTM5gRn80")]
    public void Sha512_crypt_matches_published_vectors(string password, string salt, int rounds, string checksum) =>
        Assert.Equal(checksum, UnixCrypt.ShaChecksum(HashAlgorithmName.SHA512, Encoding.UTF8.GetBytes(password), Encoding.UTF8.GetBytes(salt), rounds));

    [Theory]
    [InlineData("correct horse battery staple", "saltsalt", "BsXyQbZiQujHkdhwPwdol.")]
    [InlineData("correct horse battery staple", "", "zoYVCpjXXFW7mz9BsFHro.")]
    public void Md5_crypt_matches_openssl(string password, string salt, string checksum) =>
        Assert.Equal(checksum, UnixCrypt.Md5Checksum(Encoding.UTF8.GetBytes(password), Encoding.UTF8.GetBytes(salt)));

    [Fact]
    public void Md5_crypt_handles_an_empty_password() =>
        // openssl passwd -1 -salt saltsalt ''
        Assert.Equal("5Jhcit4zN9UlGiA0txPkO0", UnixCrypt.Md5Checksum([], "saltsalt"u8));
}
