package loadgen

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBuckets: every value falls in the bucket whose range holds it, the
// buckets are contiguous, and each is at most 1/32 of its values wide.
func TestBuckets(t *testing.T) {
	var next uint64
	for i := range nBuckets {
		low, width := bucketRange(i)
		if low != next {
			t.Fatalf("bucket %d starts at %d, want %d", i, low, next)
		}
		if low >= subCount && float64(width) > float64(low)/subCount {
			t.Fatalf("bucket %d [%d, +%d) wider than 1/%d of its values", i, low, width, subCount)
		}
		for _, v := range []uint64{low, low + width/2, low + width - 1} {
			if got := bucketOf(v); got != i {
				t.Fatalf("bucketOf(%d) = %d, want %d", v, got, i)
			}
		}
		next = low + width
		if next == 0 { // wrapped past the largest uint64: the last bucket
			if i != nBuckets-1 {
				t.Fatalf("bucket %d reaches 2^64, want the last one", i)
			}
		}
	}
	if got := bucketOf(math.MaxUint64); got != nBuckets-1 {
		t.Errorf("bucketOf(max) = %d, want %d", got, nBuckets-1)
	}
}

// TestQuantile compares the histogram with the exact quantiles of sorted
// samples: within the 1/32 precision.
func TestQuantile(t *testing.T) {
	var h histogram
	var samples []time.Duration
	for i := 1; i <= 10000; i++ {
		d := time.Duration(i*i) * time.Microsecond / 100 // skewed, 10 ns to 1 s
		h.record(d)
		samples = append(samples, d)
	}
	slices.Sort(samples)
	for _, q := range []float64{0.5, 0.9, 0.99, 1} {
		exact := samples[int(math.Ceil(q*float64(len(samples))))-1]
		got := h.quantile(q)
		if diff := math.Abs(float64(got-exact)) / float64(exact); diff > 1.0/subCount {
			t.Errorf("quantile(%v) = %v, exact %v: off by %.1f%%", q, got, exact, diff*100)
		}
	}
	if got, want := time.Duration(h.max.Load()), samples[len(samples)-1]; got != want {
		t.Errorf("max = %v, want %v", got, want)
	}
	var empty histogram
	if got := empty.quantile(0.5); got != 0 {
		t.Errorf("empty quantile = %v, want 0", got)
	}
	var all histogram
	all.merge(&h)
	all.merge(&h)
	if all.count.Load() != 20000 || all.quantile(0.5) != h.quantile(0.5) {
		t.Errorf("merge: count %d, p50 %v, want 20000 and %v", all.count.Load(), all.quantile(0.5), h.quantile(0.5))
	}
}

// TestCycle: one round of a profile holds each command as often as its
// weight, and --help shows the weights.
func TestCycle(t *testing.T) {
	for _, p := range Profiles {
		c := p.cycle()
		if len(c) != p.CycleLen() {
			t.Errorf("%s: cycle of %d, want %d", p.Name, len(c), p.CycleLen())
		}
		for op := range numOps {
			if got := countOp(c, op); got != p.Weights[op] {
				t.Errorf("%s: %v %d times, want %d", p.Name, op, got, p.Weights[op])
			}
		}
	}
	help := ProfileHelp()
	for _, want := range []string{"mixed:", "FETCH BODY[] 8", "logins:", "LOGOUT 1", "read-heavy:"} {
		if !strings.Contains(help, want) {
			t.Errorf("ProfileHelp() lacks %q:\n%s", want, help)
		}
	}
}

func countOp(c []Op, op Op) int {
	n := 0
	for _, o := range c {
		if o == op {
			n++
		}
	}
	return n
}

func TestGenerateCorpus(t *testing.T) {
	a, b := GenerateCorpus(50, 7), GenerateCorpus(50, 7)
	if len(a) != 50 {
		t.Fatalf("%d messages, want 50", len(a))
	}
	small, large := 0, 0
	for i := range a {
		if string(a[i]) != string(b[i]) {
			t.Fatalf("message %d differs between two runs with one seed", i)
		}
		if strings.Contains(strings.ReplaceAll(string(a[i]), "\r\n", ""), "\n") {
			t.Fatalf("message %d has a bare LF", i)
		}
		if len(a[i]) < 8<<10 {
			small++
		} else {
			large++
		}
	}
	if small == 0 || large == 0 {
		t.Errorf("sizes not varied: %d small, %d large", small, large)
	}
	if got := string(toCRLF([]byte("a\nb\r\nc"))); got != "a\r\nb\r\nc" {
		t.Errorf("toCRLF = %q", got)
	}
}
