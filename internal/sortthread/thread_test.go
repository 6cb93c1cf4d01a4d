package sortthread

import (
	"fmt"
	"strconv"
	"testing"
)

// The THREAD responses of RFC 5256 §3 (A283 ORDEREDSUBJECT, A285
// REFERENCES) and §4, with the editorial line breaks removed.
const (
	rfcOrderedSubject = "(166)(167)(168)(169)(172)(170)(171)(173)(174 (175)(176)(178)(181)(180))" +
		"(179)(177 (183)(182)(188)(184)(185)(186)(187)(189))(190)(191)(192)(193)(194 195)" +
		"(196 (197)(198))(199)(200 202)(201)(203)(204)(205)(206 207)(208)"
	rfcReferences = "(166)(167)(168)(169)(172)((170)(179))(171)(173)((174)(175)(176)(178)(181)(180))" +
		"((177)(183)(182)(188 (184)(189))(185 186)(187))(190)(191)(192)(193)((194)(195 196))" +
		"(197 198)(199)(200 202)(201)(203)(204)(205 206 207)(208)"
	rfcResponse1 = "(2)(3 6 (4 23)(44 7 96))"
	rfcResponse2 = "((3)(5))"
)

// parseThreads parses THREAD response data (RFC 5256 §5 thread-list) into
// Nodes whose messages carry the numbers as Seq; a list that opens with a
// list is a dummy. It is the test's independent reading of the grammar.
func parseThreads(t testing.TB, s string) []*Node {
	t.Helper()
	p := threadParser{s: s}
	var out []*Node
	for p.i < len(p.s) {
		out = append(out, p.list(t))
	}
	return out
}

type threadParser struct {
	s string
	i int
}

func (p *threadParser) expect(t testing.TB, c byte) {
	t.Helper()
	if p.i >= len(p.s) || p.s[p.i] != c {
		t.Fatalf("parseThreads(%q): want %q at %d", p.s, c, p.i)
	}
	p.i++
}

func (p *threadParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *threadParser) lists(t testing.TB) []*Node {
	t.Helper()
	var out []*Node
	for p.peek() == '(' {
		out = append(out, p.list(t))
	}
	if len(out) < 2 {
		t.Fatalf("parseThreads(%q): thread-nested with %d lists at %d", p.s, len(out), p.i)
	}
	return out
}

func (p *threadParser) list(t testing.TB) *Node {
	t.Helper()
	p.expect(t, '(')
	if p.peek() == '(' {
		n := &Node{Children: p.lists(t)}
		p.expect(t, ')')
		return n
	}
	root := p.number(t)
	cur := root
	for p.peek() == ' ' {
		p.i++
		if p.peek() == '(' {
			cur.Children = p.lists(t)
			break
		}
		k := p.number(t)
		cur.Children = []*Node{k}
		cur = k
	}
	p.expect(t, ')')
	return root
}

func (p *threadParser) number(t testing.TB) *Node {
	t.Helper()
	j := p.i
	for p.i < len(p.s) && '0' <= p.s[p.i] && p.s[p.i] <= '9' {
		p.i++
	}
	n, err := strconv.ParseUint(p.s[j:p.i], 10, 32)
	if err != nil || n == 0 {
		t.Fatalf("parseThreads(%q): bad number at %d", p.s, j)
	}
	return &Node{Msg: &Message{Seq: uint32(n)}}
}

func seqNum(m *Message) uint32 { return m.Seq }

func TestFormatThreadsRoundTrip(t *testing.T) {
	for _, s := range []string{rfcOrderedSubject, rfcReferences, rfcResponse1, rfcResponse2, "", "(1)", "(1 2 3)", "((1)(2 3)(4 (5)(6)))"} {
		if got := FormatThreads(parseThreads(t, s), seqNum); got != s {
			t.Errorf("FormatThreads(parseThreads(%q)) = %q, want the same", s, got)
		}
	}
}

func msg(n uint32) *Node { return &Node{Msg: &Message{Seq: n, UID: 100 + n}} }

func node(m *Node, kids ...*Node) *Node { m.Children = kids; return m }

func dummy(kids ...*Node) *Node { return &Node{Children: kids} }

// Trees the algorithms never produce, printed by the rules for dummies
// (RFC 5256 §3 step 3: promote a single child; §4 "((3)(5))").
func TestFormatThreadsDummies(t *testing.T) {
	tests := []struct {
		name string
		in   []*Node
		want string
	}{
		{"rfc §4 first example", []*Node{msg(2), node(msg(3), node(msg(6), node(msg(4), msg(23)), node(msg(44), node(msg(7), msg(96)))))}, rfcResponse1},
		{"top dummy", []*Node{dummy(msg(3), msg(5))}, rfcResponse2},
		{"top dummy, one child", []*Node{dummy(node(msg(3), msg(4)))}, "(3 4)"},
		{"empty dummy", []*Node{dummy(), msg(1), dummy(dummy())}, "(1)"},
		{"dummy under a message is spliced", []*Node{node(msg(1), dummy(msg(2), msg(3)))}, "(1 (2)(3))"},
		{"single-child dummy under a message", []*Node{node(msg(1), dummy(msg(2)))}, "(1 2)"},
		{"empty dummy sibling", []*Node{node(msg(1), msg(2), dummy())}, "(1 2)"},
		{"nested dummy as a sibling", []*Node{node(msg(1), msg(2), dummy(msg(3), msg(4)))}, "(1 (2)((3)(4)))"},
	}
	for _, tt := range tests {
		if got := FormatThreads(tt.in, seqNum); got != tt.want {
			t.Errorf("%s: FormatThreads = %q, want %q", tt.name, got, tt.want)
		}
	}
	uid := func(m *Message) uint32 { return m.UID }
	if got, want := FormatThreads([]*Node{node(msg(1), msg(2))}, uid), "(101 102)"; got != want {
		t.Errorf("FormatThreads(UIDs) = %q, want %q", got, want)
	}
}

// messagesFrom builds messages that a correct threader must turn back into
// the given response: sent dates follow the order numbers appear, a
// child's References list its ancestors (a dummy is an id no message has),
// subjects are distinct unless sameSubject, which instead leaves dummy
// roots' children without references and with one subject, so step 5 has
// to build the dummy.
func messagesFrom(t *testing.T, resp string, sameSubject bool) []Message {
	var msgs []Message
	var walk func(n *Node, refs string, subject string)
	dummies := 0
	walk = func(n *Node, refs, subject string) {
		if n.Msg == nil {
			dummies++
			id := fmt.Sprintf("<dummy%d@x>", dummies)
			for _, k := range n.Children {
				if sameSubject {
					walk(k, "", fmt.Sprintf("merged %d", dummies))
				} else {
					walk(k, refs+" "+id, "")
				}
			}
			return
		}
		seq := n.Msg.Seq
		id := fmt.Sprintf("<m%d@x>", seq)
		if subject == "" {
			subject = fmt.Sprintf("subject %d", seq)
		}
		msgs = append(msgs, Message{
			Seq: seq, Date: day(len(msgs)), Subject: subject,
			MessageID: id, References: refs,
		})
		for _, k := range n.Children {
			walk(k, refs+" "+id, "")
		}
	}
	for _, n := range parseThreads(t, resp) {
		walk(n, "", "")
	}
	return msgs
}

func TestThreadRFCExamples(t *testing.T) {
	// ORDEREDSUBJECT: each thread one base subject, replies marked "Re:".
	var os []Message
	for _, n := range parseThreads(t, rfcOrderedSubject) {
		subj := fmt.Sprintf("thread %d", n.Msg.Seq)
		os = append(os, Message{Seq: n.Msg.Seq, Date: day(len(os)), Subject: subj})
		for _, k := range n.Children {
			os = append(os, Message{Seq: k.Msg.Seq, Date: day(len(os)), Subject: "Re: " + subj})
		}
	}
	if got := FormatThreads(ThreadOrderedSubject(os), seqNum); got != rfcOrderedSubject {
		t.Errorf("ThreadOrderedSubject(RFC 5256 A283 data) =\n%s\nwant\n%s", got, rfcOrderedSubject)
	}
	for _, same := range []bool{false, true} {
		msgs := messagesFrom(t, rfcReferences, same)
		if got := FormatThreads(ThreadReferences(msgs), seqNum); got != rfcReferences {
			t.Errorf("ThreadReferences(RFC 5256 A285 data, subject merge %v) =\n%s\nwant\n%s", same, got, rfcReferences)
		}
		// The input order must not matter, only sequence numbers.
		rev := make([]Message, len(msgs))
		for i := range msgs {
			rev[len(msgs)-1-i] = msgs[i]
		}
		if got := FormatThreads(ThreadReferences(rev), seqNum); got != rfcReferences {
			t.Errorf("ThreadReferences(reversed A285 data, subject merge %v) =\n%s\nwant\n%s", same, got, rfcReferences)
		}
	}
	for _, s := range []string{rfcResponse1, rfcResponse2} {
		msgs := messagesFrom(t, s, false)
		if got := FormatThreads(ThreadReferences(msgs), seqNum); got != s {
			t.Errorf("ThreadReferences(RFC 5256 §4 data) = %s, want %s", got, s)
		}
	}
}

func TestThreadOrderedSubject(t *testing.T) {
	tests := []struct {
		name string
		msgs []Message
		want string
	}{
		{"empty", nil, ""},
		{"threads by first date", []Message{
			{Seq: 1, Subject: "b", Date: day(5)},
			{Seq: 2, Subject: "a", Date: day(3)},
			{Seq: 3, Subject: "Re: b", Date: day(1)}, // earliest "b": the root
			{Seq: 4, Subject: "[list] RE: A", Date: day(4)},
			{Seq: 5, Subject: "Fwd: a", Date: day(2)},
		}, "(3 1)(5 (2)(4))"},
		{"equal dates by seq", []Message{
			{Seq: 2, Subject: "x", Date: day(1)},
			{Seq: 1, Subject: "y", Date: day(1)},
			{Seq: 3, Subject: "x", Date: day(1)},
		}, "(1)(2 3)"},
		{"missing date uses internal date", []Message{
			{Seq: 1, Subject: "x", Date: day(5)},
			{Seq: 2, Subject: "x", InternalDate: day(1)},
		}, "(2 1)"},
		{"empty subjects are one thread", []Message{
			{Seq: 1, Date: day(1)},
			{Seq: 2, Subject: "Re:", Date: day(2)},
		}, "(1 2)"},
	}
	for _, tt := range tests {
		if got := FormatThreads(ThreadOrderedSubject(tt.msgs), seqNum); got != tt.want {
			t.Errorf("%s: ThreadOrderedSubject = %s, want %s", tt.name, got, tt.want)
		}
	}
}
