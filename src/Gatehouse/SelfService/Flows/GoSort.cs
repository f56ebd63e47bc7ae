using System.Numerics;

namespace Gatehouse.SelfService.Flows;

/// <summary>
/// Go's <c>sort.Slice</c> and <c>sort.SliceStable</c> as of Go 1.22 and later (Kratos v26.2 is built with Go 1.26), step for
/// step, so that a list comes out in the very order Kratos's node sort leaves it — including the order of elements that
/// compare equal, and whatever a comparator that is not a strict weak ordering makes of it.
/// <para>
/// Why not a library sort: <c>sort.Slice</c> is pattern-defeating quicksort (pdqsort) without BlockQuicksort, which is not
/// stable; for more than 12 elements the place of equal elements follows from its exact pivot choices, partitions and
/// pattern breaking (a fixed xorshift seeded with the length). .NET's sorts are introsorts with other pivots, LINQ's
/// OrderBy is stable; neither matches, and no .NET package reproduces Go's permutation. Kratos's first pass sorts nodes by
/// group only, so every node of a group compares equal to the others, and forms with more than 12 nodes are common
/// (registration with traits, social providers, passkey, code, password). <c>sort.SliceStable</c> (insertion sort in
/// blocks of 20, then SymMerge) keeps equal elements in order only for a strict weak ordering; Kratos's second pass calls
/// nodes of different groups equal yet orders default against password nodes, which is not one, so its result for more
/// than 20 nodes is what SymMerge's binary searches make of it, and is reproduced here the same way.
/// </para>
/// </summary>
public static class GoSort
{
    /// <summary>Go's <c>sort.Slice(x, less)</c>: <c>pdqsort_func(data, 0, n, bits.Len(n))</c>.</summary>
    public static void Slice<T>(IList<T> data, Func<T, T, bool> less)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(less);
        var s = new Sorter<T>(data, less);
        s.Pdqsort(0, data.Count, BitLength(data.Count));
    }

    /// <summary>Go's <c>sort.SliceStable(x, less)</c>: <c>stable_func(data, n)</c>.</summary>
    public static void SliceStable<T>(IList<T> data, Func<T, T, bool> less)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(less);
        new Sorter<T>(data, less).Stable(data.Count);
    }

    /// <summary>Go's <c>bits.Len(uint(n))</c>: the number of bits needed to write n.</summary>
    private static int BitLength(int n) => 64 - BitOperations.LeadingZeroCount((ulong)n);

    private enum SortedHint
    {
        Unknown,
        Increasing,
        Decreasing,
    }

    private sealed class Sorter<T>(IList<T> data, Func<T, T, bool> less)
    {
        private const int MaxInsertion = 12;
        private const int ShortestNinther = 50;
        private const int MaxSwaps = 4 * 3;
        private const int MaxSteps = 5;
        private const int ShortestShifting = 50;
        private const int StableBlockSize = 20;

        private bool Less(int i, int j) => less(data[i], data[j]);

        private void Swap(int i, int j) => (data[i], data[j]) = (data[j], data[i]);

        private void InsertionSort(int a, int b)
        {
            for (var i = a + 1; i < b; i++)
            {
                for (var j = i; j > a && Less(j, j - 1); j--) Swap(j, j - 1);
            }
        }

        private void SiftDown(int lo, int hi, int first)
        {
            var root = lo;
            while (true)
            {
                var child = (2 * root) + 1;
                if (child >= hi) return;
                if (child + 1 < hi && Less(first + child, first + child + 1)) child++;
                if (!Less(first + root, first + child)) return;
                Swap(first + root, first + child);
                root = child;
            }
        }

        private void HeapSort(int a, int b)
        {
            var first = a;
            var hi = b - a;
            for (var i = (hi - 1) / 2; i >= 0; i--) SiftDown(i, hi, first);
            for (var i = hi - 1; i >= 0; i--)
            {
                Swap(first, first + i);
                SiftDown(0, i, first);
            }
        }

        public void Pdqsort(int a, int b, int limit)
        {
            var wasBalanced = true;
            var wasPartitioned = true;
            while (true)
            {
                var length = b - a;
                if (length <= MaxInsertion)
                {
                    InsertionSort(a, b);
                    return;
                }
                if (limit == 0)
                {
                    HeapSort(a, b);
                    return;
                }
                if (!wasBalanced)
                {
                    BreakPatterns(a, b);
                    limit--;
                }
                var (pivot, hint) = ChoosePivot(a, b);
                if (hint == SortedHint.Decreasing)
                {
                    ReverseRange(a, b);
                    pivot = b - 1 - (pivot - a);
                    hint = SortedHint.Increasing;
                }
                if (wasBalanced && wasPartitioned && hint == SortedHint.Increasing && PartialInsertionSort(a, b)) return;
                // Go tests a > 0, not a > the start of the whole sort: the element before a is the pivot of an earlier partition.
                if (a > 0 && !Less(a - 1, pivot))
                {
                    a = PartitionEqual(a, b, pivot);
                    continue;
                }
                var (mid, alreadyPartitioned) = Partition(a, b, pivot);
                wasPartitioned = alreadyPartitioned;
                int leftLength = mid - a, rightLength = b - mid;
                var balanceThreshold = length / 8;
                if (leftLength < rightLength)
                {
                    wasBalanced = leftLength >= balanceThreshold;
                    Pdqsort(a, mid, limit);
                    a = mid + 1;
                }
                else
                {
                    wasBalanced = rightLength >= balanceThreshold;
                    Pdqsort(mid + 1, b, limit);
                    b = mid;
                }
            }
        }

        private (int Pivot, bool AlreadyPartitioned) Partition(int a, int b, int pivot)
        {
            Swap(a, pivot);
            int i = a + 1, j = b - 1;
            while (i <= j && Less(i, a)) i++;
            while (i <= j && !Less(j, a)) j--;
            if (i > j)
            {
                Swap(j, a);
                return (j, true);
            }
            Swap(i, j);
            i++;
            j--;
            while (true)
            {
                while (i <= j && Less(i, a)) i++;
                while (i <= j && !Less(j, a)) j--;
                if (i > j) break;
                Swap(i, j);
                i++;
                j--;
            }
            Swap(j, a);
            return (j, false);
        }

        private int PartitionEqual(int a, int b, int pivot)
        {
            Swap(a, pivot);
            int i = a + 1, j = b - 1;
            while (true)
            {
                while (i <= j && !Less(a, i)) i++;
                while (i <= j && Less(a, j)) j--;
                if (i > j) break;
                Swap(i, j);
                i++;
                j--;
            }
            return i;
        }

        private bool PartialInsertionSort(int a, int b)
        {
            var i = a + 1;
            for (var step = 0; step < MaxSteps; step++)
            {
                while (i < b && !Less(i, i - 1)) i++;
                if (i == b) return true;
                if (b - a < ShortestShifting) return false;
                Swap(i, i - 1);
                // As in Go, the smaller one may be shifted left past a (down to index 1).
                if (i - a >= 2)
                {
                    for (var j = i - 1; j >= 1; j--)
                    {
                        if (!Less(j, j - 1)) break;
                        Swap(j, j - 1);
                    }
                }
                if (b - i >= 2)
                {
                    for (var j = i + 1; j < b; j++)
                    {
                        if (!Less(j, j - 1)) break;
                        Swap(j, j - 1);
                    }
                }
            }
            return false;
        }

        private void BreakPatterns(int a, int b)
        {
            var length = b - a;
            if (length < 8) return;
            // Go's xorshift (13, 7, 17), seeded with the length; the modulus is the next power of two above it.
            var random = (ulong)length;
            var modulus = 1UL << BitLength(length);
            for (var idx = a + (length / 4 * 2) - 1; idx <= a + (length / 4 * 2) + 1; idx++)
            {
                random ^= random << 13;
                random ^= random >> 7;
                random ^= random << 17;
                var other = (int)(random & (modulus - 1));
                if (other >= length) other -= length;
                Swap(idx, a + other);
            }
        }

        private (int Pivot, SortedHint Hint) ChoosePivot(int a, int b)
        {
            var l = b - a;
            var swaps = 0;
            int i = a + (l / 4 * 1), j = a + (l / 4 * 2), k = a + (l / 4 * 3);
            if (l >= 8)
            {
                if (l >= ShortestNinther)
                {
                    i = Median(i - 1, i, i + 1, ref swaps);
                    j = Median(j - 1, j, j + 1, ref swaps);
                    k = Median(k - 1, k, k + 1, ref swaps);
                }
                j = Median(i, j, k, ref swaps);
            }
            return swaps switch
            {
                0 => (j, SortedHint.Increasing),
                MaxSwaps => (j, SortedHint.Decreasing),
                _ => (j, SortedHint.Unknown),
            };
        }

        private (int, int) Order2(int a, int b, ref int swaps)
        {
            if (Less(b, a))
            {
                swaps++;
                return (b, a);
            }
            return (a, b);
        }

        private int Median(int a, int b, int c, ref int swaps)
        {
            (a, b) = Order2(a, b, ref swaps);
            (b, _) = Order2(b, c, ref swaps);
            (_, b) = Order2(a, b, ref swaps);
            return b;
        }

        private void ReverseRange(int a, int b)
        {
            for (int i = a, j = b - 1; i < j; i++, j--) Swap(i, j);
        }

        public void Stable(int n)
        {
            var blockSize = StableBlockSize;
            int a = 0, b = blockSize;
            while (b <= n)
            {
                InsertionSort(a, b);
                a = b;
                b += blockSize;
            }
            InsertionSort(a, n);
            while (blockSize < n)
            {
                a = 0;
                b = 2 * blockSize;
                while (b <= n)
                {
                    SymMerge(a, a + blockSize, b);
                    a = b;
                    b += 2 * blockSize;
                }
                var m = a + blockSize;
                if (m < n) SymMerge(a, m, n);
                blockSize *= 2;
            }
        }

        /// <summary>Kim and Kutzner's SymMerge of data[a:m] and data[m:b], as Go writes it (a &lt; m &lt; b).</summary>
        private void SymMerge(int a, int m, int b)
        {
            if (m - a == 1)
            {
                int i = m, j = b;
                while (i < j)
                {
                    var h = (int)((uint)(i + j) >> 1);
                    if (Less(h, a)) i = h + 1;
                    else j = h;
                }
                for (var k = a; k < i - 1; k++) Swap(k, k + 1);
                return;
            }
            if (b - m == 1)
            {
                int i = a, j = m;
                while (i < j)
                {
                    var h = (int)((uint)(i + j) >> 1);
                    if (!Less(m, h)) i = h + 1;
                    else j = h;
                }
                for (var k = m; k > i; k--) Swap(k, k - 1);
                return;
            }
            var mid = (int)((uint)(a + b) >> 1);
            var n = mid + m;
            int start, r;
            if (m > mid)
            {
                start = n - b;
                r = mid;
            }
            else
            {
                start = a;
                r = m;
            }
            var p = n - 1;
            while (start < r)
            {
                var c = (int)((uint)(start + r) >> 1);
                if (!Less(p - c, c)) start = c + 1;
                else r = c;
            }
            var end = n - start;
            if (start < m && m < end) Rotate(start, m, end);
            if (a < start && start < mid) SymMerge(a, start, mid);
            if (mid < end && end < b) SymMerge(mid, end, b);
        }

        private void Rotate(int a, int m, int b)
        {
            int i = m - a, j = b - m;
            while (i != j)
            {
                if (i > j)
                {
                    SwapRange(m - i, m, j);
                    i -= j;
                }
                else
                {
                    SwapRange(m - i, m + j - i, i);
                    j -= i;
                }
            }
            SwapRange(m - i, m, i);
        }

        private void SwapRange(int a, int b, int n)
        {
            for (var i = 0; i < n; i++) Swap(a + i, b + i);
        }
    }
}
