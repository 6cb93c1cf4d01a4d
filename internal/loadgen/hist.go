package loadgen

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram layout: values below 2^subBits nanoseconds get a bucket each;
// above, every power of two is split into 2^subBits buckets, so a bucket
// is at most 1/32 (about 3%) of its values wide, as in HdrHistogram with
// two significant digits. 1920 buckets cover every uint64.
const (
	subBits  = 5
	subCount = 1 << subBits
	nBuckets = (64 - subBits + 1) * subCount
)

// histogram counts latencies in nanoseconds. It is safe for concurrent
// use: all clients of a run record into the same one, with atomic adds,
// so memory stays bounded whatever the number of clients and commands.
type histogram struct {
	buckets [nBuckets]atomic.Uint64
	count   atomic.Uint64
	sum     atomic.Uint64
	max     atomic.Uint64
}

// bucketOf returns the bucket index of v.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	k := bits.Len64(v) - 1  // v in [2^k, 2^(k+1)), k >= subBits
	m := v >> (k - subBits) // in [subCount, 2*subCount)
	return (k-subBits+1)*subCount + int(m) - subCount
}

// bucketRange returns the lowest value of bucket i and its width.
func bucketRange(i int) (low, width uint64) {
	if i < subCount {
		return uint64(i), 1
	}
	k := i/subCount + subBits - 1
	m := uint64(i%subCount + subCount)
	return m << (k - subBits), 1 << (k - subBits)
}

// record adds one latency.
func (h *histogram) record(d time.Duration) {
	v := uint64(max(d, 0))
	h.buckets[bucketOf(v)].Add(1)
	h.count.Add(1)
	h.sum.Add(v)
	for {
		old := h.max.Load()
		if v <= old || h.max.CompareAndSwap(old, v) {
			return
		}
	}
}

// merge adds o's counts to h (for the totals line).
func (h *histogram) merge(o *histogram) {
	for i := range o.buckets {
		if n := o.buckets[i].Load(); n > 0 {
			h.buckets[i].Add(n)
		}
	}
	h.count.Add(o.count.Load())
	h.sum.Add(o.sum.Load())
	if m := o.max.Load(); m > h.max.Load() {
		h.max.Store(m)
	}
}

// quantile returns the value at quantile q (0 < q <= 1): the middle of
// the bucket holding the ceil(q*count)-th smallest value, never above the
// maximum recorded. Zero when empty.
func (h *histogram) quantile(q float64) time.Duration {
	n := h.count.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q * float64(n))
	if float64(rank) < q*float64(n) {
		rank++
	}
	rank = max(rank, 1)
	var seen uint64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= rank {
			low, width := bucketRange(i)
			return time.Duration(min(low+width/2, h.max.Load()))
		}
	}
	return time.Duration(h.max.Load())
}
