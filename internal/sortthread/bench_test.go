package sortthread

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchMailbox is a deterministic 10,000-message mailbox shaped like a busy
// mailing list: threads of 1 to 40 messages, replies referencing their
// whole ancestry (a fifth with truncated References), a few percent with
// missing parents, missing Message-IDs, and subject-only replies.
func benchMailbox(n int) []Message {
	r := rand.New(rand.NewPCG(1, 2))
	msgs := make([]Message, 0, n)
	type thread struct {
		subject string
		ids     [][]string // References of each member, ending in its id
	}
	var threads []*thread
	for i := 0; len(msgs) < n; i++ {
		seq := uint32(len(msgs) + 1)
		id := fmt.Sprintf("<m%d@lists.example>", seq)
		m := Message{Seq: seq, UID: seq + 1000, Size: int64(1000 + r.IntN(50000)),
			Date: day(i), InternalDate: day(i + 1), MessageID: id}
		if len(threads) == 0 || r.IntN(8) == 0 {
			th := &thread{subject: fmt.Sprintf("[list] topic %d", len(threads))}
			threads = append(threads, th)
			m.Subject = th.subject
			th.ids = append(th.ids, []string{id})
		} else {
			th := threads[len(threads)-1-r.IntN(min(len(threads), 30))]
			parent := th.ids[r.IntN(len(th.ids))]
			m.Subject = "Re: " + th.subject
			chain := append(append([]string{}, parent...), id)
			th.ids = append(th.ids, chain)
			refs := parent
			switch r.IntN(20) {
			case 0: // subject only
				refs = nil
			case 1, 2, 3, 4: // truncated References
				refs = refs[max(0, len(refs)-2):]
			case 5: // parent not in the mailbox
				refs = []string{fmt.Sprintf("<gone%d@x>", seq)}
			}
			for _, ref := range refs {
				m.References += ref + " "
			}
		}
		if r.IntN(100) == 0 {
			m.MessageID = ""
		}
		msgs = append(msgs, m)
	}
	return msgs
}

func BenchmarkThreadReferences(b *testing.B) {
	msgs := benchMailbox(10000)
	b.ReportAllocs()
	for b.Loop() {
		ThreadReferences(msgs)
	}
}

func BenchmarkThreadOrderedSubject(b *testing.B) {
	msgs := benchMailbox(10000)
	b.ReportAllocs()
	for b.Loop() {
		ThreadOrderedSubject(msgs)
	}
}

func BenchmarkSort(b *testing.B) {
	msgs := benchMailbox(10000)
	for i := range msgs {
		msgs[i].From = addrs(fmt.Sprintf("User %d <user%d@example.org>", i%97, i%89))
	}
	for _, keys := range [][]Key{
		{{Name: KeyDate, Reverse: true}},
		{{Name: KeySubject}, {Name: KeyDate}},
		{{Name: KeyDisplayFrom}},
	} {
		b.Run(fmt.Sprint(keys), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Sort(msgs, keys)
			}
		})
	}
}

func BenchmarkFormatThreads(b *testing.B) {
	threads := ThreadReferences(benchMailbox(10000))
	b.ReportAllocs()
	for b.Loop() {
		FormatThreads(threads, seqNum)
	}
}
