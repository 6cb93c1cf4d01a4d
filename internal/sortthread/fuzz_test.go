package sortthread

import (
	"slices"

	"github.com/postern/postern/internal/message"
	"strings"
	"testing"
)

func FuzzBaseSubject(f *testing.F) {
	for _, s := range []string{"", "Re: foo", "[list] Re: [fwd: foo (fwd)]", "[a] [b]", "Re[2]: x",
		"=?UTF-8?Q?Re:_caf=C3=A9?=", "[fwd: ]", "fwd fw re [ ] : (fwd)", "\t\r\n", "=?UTF-8?B?W2Z3ZDogeF0=?="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := BaseSubject(s)
		if strings.HasPrefix(b, " ") || strings.HasSuffix(b, " ") || strings.Contains(b, "  ") ||
			strings.ContainsAny(b, "\t\r\n") {
			t.Fatalf("BaseSubject(%q) = %q: white space not normalized", s, b)
		}
		// Idempotent. Not when the result still holds "=?": decoding
		// again would decode encoded words that were text the first time.
		if !strings.Contains(b, "=?") {
			if b2 := BaseSubject(b); b2 != b {
				t.Fatalf("BaseSubject(%q) = %q, BaseSubject of that = %q, want the same", s, b, b2)
			}
		}
		if got, want := b, literalBaseSubject(s); got != want {
			t.Fatalf("BaseSubject(%q) = %q, want %q (literal RFC 5256 §2.1)", s, got, want)
		}
		_ = Collate(b)
	})
}

// literalBaseSubject follows RFC 5256 §2.1 step by step, removing one
// blob per step (4), with no shortcut: the reference for BaseSubject.
func literalBaseSubject(subject string) string {
	s := collapseSpace(message.DecodeHeader(subject))
	for {
		s, _ = trimTrailers(s)
		for {
			if n, _, _, _ := leaderLen(s); n > 0 {
				s = s[n:]
				continue
			}
			if n, ok := blobLen(s, 0); ok && n < len(s) {
				s = s[n:]
				continue
			}
			break
		}
		if len(s) >= 6 && strings.EqualFold(s[:5], "[fwd:") && s[len(s)-1] == ']' {
			s = s[5 : len(s)-1]
			continue
		}
		return s
	}
}

func FuzzMessageIDs(f *testing.F) {
	for _, s := range []string{"<a@b>", `<"a b"@c> <d@e>`, "<a@b (x) <c@d>", "(<a@b>) \"<c@d>\" <e@f>", "<(\\)@x>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, id := range MessageIDs(s) {
			at := strings.LastIndexByte(id, '@')
			if len(id) < 5 || id[0] != '<' || id[len(id)-1] != '>' || at < 2 || at > len(id)-3 {
				t.Fatalf("MessageIDs(%q) has %q, not <left@right>", s, id)
			}
			// A normalized id without specials reads back as itself.
			if !strings.ContainsAny(id[1:len(id)-1], "<>\"()\\ \t\r\n") {
				if got := MessageIDs(id); len(got) != 1 || got[0] != id {
					t.Fatalf("MessageIDs(%q) = %q, want [%q]", id, got, id)
				}
			}
		}
	})
}

// fuzzMessages builds messages from fuzz input: one message per line,
// fields "id|references|in-reply-to|subject|hour", with short ids so that
// duplicates, dangling references and loops are common. Seq is the line
// number.
func fuzzMessages(data string) []Message {
	var msgs []Message
	for i, line := range strings.Split(data, "\n") {
		if i >= 200 {
			break
		}
		f := strings.SplitN(line, "|", 5)
		for len(f) < 5 {
			f = append(f, "")
		}
		ids := func(s string) string {
			var sb strings.Builder
			for _, w := range strings.Fields(s) {
				sb.WriteString("<" + w + "@x> ")
			}
			return sb.String()
		}
		hour := 0
		for _, c := range f[4] {
			hour = (hour*10 + int(c)) % 1000
		}
		msgs = append(msgs, Message{
			Seq: uint32(i + 1), Date: day(hour), InternalDate: day(-hour),
			MessageID: ids(f[0]), References: ids(f[1]), InReplyTo: ids(f[2]), Subject: f[3],
			Size: int64(len(line)),
		})
	}
	return msgs
}

func FuzzThreadReferences(f *testing.F) {
	f.Add("a|||foo|1\nb|a||Re: foo|2\nc|a b||Re: foo|3")
	f.Add("a|b||x|1\nb|a||x|1")               // loop
	f.Add("a|a a||x|1\na|||x|2\n|a||Re: x|3") // self reference, duplicate id
	f.Add("a|p q p||foo|1\nb|q||foo|2\nc||q|Re: foo|0")
	f.Add("|||foo|1\n|||foo|1\n|||Re: foo|1\n|||[fwd: foo]|2")
	f.Fuzz(func(t *testing.T, data string) {
		msgs := fuzzMessages(data)
		threads := ThreadReferences(msgs)
		checkForest(t, msgs, threads, true)
		got := FormatThreads(threads, seqNum)

		// The same messages in another order thread the same way.
		rev := slices.Clone(msgs)
		slices.Reverse(rev)
		if got2 := FormatThreads(ThreadReferences(rev), seqNum); got2 != got {
			t.Fatalf("ThreadReferences(reversed) = %s, want %s", got2, got)
		}
		// The printed form is valid thread-list syntax holding every
		// message once.
		var n int
		var count func([]*Node)
		count = func(ns []*Node) {
			for _, x := range ns {
				if x.Msg != nil {
					n++
				}
				count(x.Children)
			}
		}
		count(parseThreads(t, got))
		if n != len(msgs) {
			t.Fatalf("FormatThreads printed %d messages, want %d: %s", n, len(msgs), got)
		}

		checkForest(t, msgs, ThreadOrderedSubject(msgs), false)
	})
}

// checkForest checks that every message of msgs is in the forest exactly
// once, that no node is reached twice (no cycles, no sharing), and, for
// REFERENCES, that dummies are only at the top, with two or more children.
func checkForest(t *testing.T, msgs []Message, threads []*Node, refs bool) {
	t.Helper()
	seenNode := map[*Node]bool{}
	seenMsg := map[*Message]int{}
	var walk func(ns []*Node, top bool)
	walk = func(ns []*Node, top bool) {
		for _, n := range ns {
			if seenNode[n] {
				t.Fatalf("node reached twice: the forest has a cycle or shares a node")
			}
			seenNode[n] = true
			if n.Msg == nil {
				if !refs || !top || len(n.Children) < 2 {
					t.Fatalf("dummy with %d children (top %v)", len(n.Children), top)
				}
			} else {
				seenMsg[n.Msg]++
			}
			walk(n.Children, false)
		}
	}
	walk(threads, true)
	for i := range msgs {
		if c := seenMsg[&msgs[i]]; c != 1 {
			t.Fatalf("message %d appears %d times, want 1", msgs[i].Seq, c)
		}
	}
	if len(seenMsg) != len(msgs) {
		t.Fatalf("forest holds %d messages, want %d", len(seenMsg), len(msgs))
	}
}

func FuzzSort(f *testing.F) {
	f.Add("a|||foo|1\nb|a||Re: foo|2", []byte{0, 1, 2})
	f.Add("|||b|3\n|||a|3\n|||[x] A|1", []byte{5, 11, 2, 14})
	f.Fuzz(func(t *testing.T, data string, keyBytes []byte) {
		msgs := fuzzMessages(data)
		for i := range msgs {
			// Reuse the text fields as addresses and subjects.
			msgs[i].From = addrs(msgs[i].Subject)
			msgs[i].To = addrs(msgs[i].References)
			msgs[i].Cc = addrs(msgs[i].InReplyTo)
		}
		names := []KeyName{KeyArrival, KeyCc, KeyDate, KeyFrom, KeySize, KeySubject, KeyTo, KeyDisplayFrom, KeyDisplayTo}
		var keys []Key
		for _, b := range keyBytes {
			if len(keys) == 8 {
				break
			}
			keys = append(keys, Key{Name: names[int(b>>1)%len(names)], Reverse: b&1 == 1})
		}
		got := Sort(msgs, keys)
		// A permutation of the input.
		a, b := seqList(msgs), seqList(got)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Fatalf("Sort returned seqs %v, want a permutation of %v", b, a)
		}
		// In order by the keys, then by sequence number.
		items := make([]sortItem, len(got))
		for i := range got {
			items[i] = newSortItem(&got[i], keys)
		}
		for i := 1; i < len(items); i++ {
			c := 0
			for k, key := range keys {
				c = compareKey(key.Name, k, &items[i-1], &items[i])
				if key.Reverse {
					c = -c
				}
				if c != 0 {
					break
				}
			}
			if c > 0 || c == 0 && items[i-1].m.Seq > items[i].m.Seq {
				t.Fatalf("Sort(%v): seq %d before seq %d, out of order", keys, items[i-1].m.Seq, items[i].m.Seq)
			}
		}
		// Independent of the input order.
		rev := slices.Clone(msgs)
		slices.Reverse(rev)
		if s1, s2 := seqs(got), seqs(Sort(rev, keys)); s1 != s2 {
			t.Fatalf("Sort(reversed input) = %s, want %s", s2, s1)
		}
	})
}

func seqList(ms []Message) []uint32 {
	out := make([]uint32, len(ms))
	for i := range ms {
		out[i] = ms[i].Seq
	}
	return out
}
