package imapbackend

import (
	"context"
	"testing"

	"github.com/postern/postern/internal/imap"
)

// BenchmarkSortThread10k is SORT, THREAD=ORDEREDSUBJECT and
// THREAD=REFERENCES over ALL of 10,000 messages, with their structures
// already cached (as after a first FETCH or SORT).
func BenchmarkSortThread10k(b *testing.B) {
	cases := []struct {
		name string
		run  func(ctx context.Context, s *session) error
	}{
		{"SORT_REVERSE_DATE_SUBJECT", func(ctx context.Context, s *session) error {
			_, err := s.Sort(ctx, imap.NumKindSeq, []imap.SortKey{{Name: "DATE", Reverse: true}, {Name: "SUBJECT"}}, &imap.SearchCriteria{}, &imap.SearchOptions{})
			return err
		}},
		{"SORT_DISPLAYFROM", func(ctx context.Context, s *session) error {
			_, err := s.Sort(ctx, imap.NumKindSeq, []imap.SortKey{{Name: "DISPLAYFROM"}}, &imap.SearchCriteria{}, &imap.SearchOptions{})
			return err
		}},
		{"THREAD_ORDEREDSUBJECT", func(ctx context.Context, s *session) error {
			_, err := s.Thread(ctx, imap.NumKindSeq, imap.ThreadOrderedSubject, &imap.SearchCriteria{})
			return err
		}},
		{"THREAD_REFERENCES", func(ctx context.Context, s *session) error {
			_, err := s.Thread(ctx, imap.NumKindSeq, imap.ThreadReferences, &imap.SearchCriteria{})
			return err
		}},
	}
	for _, bs := range benchStores {
		b.Run("store="+bs.name, func(b *testing.B) {
			s := login(b, bs.make(b, 10000))
			selectBox(b, s, "INBOX", false)
			ctx := context.Background()
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) {
					if err := c.run(ctx, s); err != nil { // parses and caches
						b.Fatal(err)
					}
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if err := c.run(ctx, s); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
