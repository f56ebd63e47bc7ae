namespace Gatehouse.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void Main_returns_zero() => Assert.Equal(0, Program.Main([]));
}
