using Gatehouse.SelfService.Flows;

namespace Gatehouse.Tests.SelfService;

/// <summary>
/// <see cref="GoSort"/> against Go's algorithms (sort/zsortfunc.go, Go 1.22 and later): the permutation of equal
/// elements is Go's, traced by hand through pdqsort_func.
/// </summary>
public sealed class GoSortTests
{
    /// <summary>
    /// 13 letters sorted by a digit only. Traced through pdqsort_func: the pivot is the median of indexes 3, 6 and 9 (one
    /// swap: no hint), index 3 (d1); the partition swaps l↔b, i↔c, h↔a, g↔e and puts d at 4 (g l i h | d | f e a c j k b m);
    /// the left four are insertion-sorted as they are, the right eight (≤ 12) by insertion: f e j m a c k b. A stable
    /// sort would give g h i l d e f j m a b c k.
    /// </summary>
    [Fact]
    public void Slice_leaves_equal_elements_where_Go_pdqsort_leaves_them()
    {
        var data = "a2 b2 c2 d1 e1 f1 g0 h0 i0 j1 k2 l0 m1".Split(' ').ToList();
        GoSort.Slice(data, (x, y) => x[1] < y[1]);
        Assert.Equal("g0 l0 i0 h0 d1 f1 e1 j1 m1 a2 c2 k2 b2", string.Join(' ', data));
    }

    [Fact]
    public void Up_to_12_elements_Slice_is_an_insertion_sort_and_keeps_equal_elements_in_order()
    {
        var data = "a2 b1 c2 d0 e1 f0 g2 h1 i0 j1 k2 l0".Split(' ').ToList();
        GoSort.Slice(data, (x, y) => x[1] < y[1]);
        Assert.Equal("d0 f0 i0 l0 b1 e1 h1 j1 a2 c2 g2 k2", string.Join(' ', data));
    }

    [Fact]
    public void Slice_sorts_and_SliceStable_is_stable_for_a_strict_weak_ordering()
    {
        var random = new Random(20260);
        foreach (var length in new[] { 0, 1, 5, 13, 20, 21, 49, 50, 51, 64, 200, 1000 })
        {
            var data = Enumerable.Range(0, length).Select(i => (Key: random.Next(0, Math.Max(1, length / 3)), Index: i)).ToList();
            var sorted = data.ToList();
            GoSort.Slice(sorted, (x, y) => x.Key < y.Key);
            Assert.Equal(data.Select(d => d.Key).Order(), sorted.Select(d => d.Key));
            Assert.Equal(data.Select(d => d.Index).Order(), sorted.Select(d => d.Index).Order());

            var stable = data.ToList();
            GoSort.SliceStable(stable, (x, y) => x.Key < y.Key);
            Assert.Equal(data.OrderBy(d => d.Key), stable);
        }
    }

    [Fact]
    public void Slice_of_a_descending_list_above_50_elements_takes_the_reverse_and_heap_paths_without_losing_elements()
    {
        var data = Enumerable.Range(0, 300).Select(i => 300 - i).ToList();
        GoSort.Slice(data, (x, y) => x < y);
        Assert.Equal(Enumerable.Range(1, 300), data);
        var sawtooth = Enumerable.Range(0, 300).Select(i => i % 7).ToList();
        GoSort.Slice(sawtooth, (x, y) => x < y);
        Assert.Equal(Enumerable.Range(0, 300).Select(i => i % 7).Order(), sawtooth);
    }
}
