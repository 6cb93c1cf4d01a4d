package imapbackend

import (
	"context"
	"testing"

	"github.com/postern/postern/internal/imap"
)

// BenchmarkFetchObjectIDPreview10k is FETCH 1:* (EMAILID THREADID PREVIEW)
// over 10,000 messages, after a first FETCH that parsed and cached them.
// It also reports the mean size of a message's cache entry (cacheB/msg),
// which DESIGN.md wants kept small.
func BenchmarkFetchObjectIDPreview10k(b *testing.B) {
	for _, bs := range benchStores {
		b.Run("store="+bs.name, func(b *testing.B) {
			s := login(b, bs.make(b, 10000))
			selectBox(b, s, "INBOX", false)
			ctx := context.Background()
			opts := &imap.FetchOptions{EmailID: true, ThreadID: true, Preview: true}
			if err := s.Fetch(ctx, discardFetch{}, imap.NumKindSeq, all, opts); err != nil { // parses and caches
				b.Fatal(err)
			}
			infos, err := s.sel.mb.Info(ctx, s.sel.uids)
			if err != nil || len(infos) == 0 {
				b.Fatalf("Info: %d, %v", len(infos), err)
			}
			total := 0
			for _, in := range infos {
				total += len(in.Cache)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := s.Fetch(ctx, discardFetch{}, imap.NumKindSeq, all, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(total)/float64(len(infos)), "cacheB/msg")
		})
	}
}
