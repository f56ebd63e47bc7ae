using Gatehouse.Http;

namespace Gatehouse.Tests.Http;

public sealed class MonotonicUuidTests
{
    [Fact]
    public void Keys_made_in_the_same_millisecond_still_grow_as_text_and_as_bytes()
    {
        // Thousands in a loop: most share a millisecond, where Guid.CreateVersion7() would order them at random.
        var keys = Enumerable.Range(0, 5000).Select(_ => MonotonicUuid.Next()).ToList();
        for (var i = 1; i < keys.Count; i++)
        {
            // SQLite stores a Guid as its text; PostgreSQL compares a uuid's big-endian bytes.
            Assert.True(string.CompareOrdinal(keys[i - 1].ToString(), keys[i].ToString()) < 0, $"{keys[i - 1]} !< {keys[i]}");
            Assert.True(keys[i - 1].ToByteArray(bigEndian: true).AsSpan().SequenceCompareTo(keys[i].ToByteArray(bigEndian: true)) < 0);
            Assert.Equal(7, keys[i].Version);
        }
    }

    [Fact]
    public void Threads_never_get_the_same_or_an_older_key_than_one_already_made()
    {
        var keys = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        Parallel.For(0, 4000, _ => keys.Add(MonotonicUuid.Next()));
        Assert.Equal(4000, keys.Distinct().Count());
    }
}
