package sortthread

import (
	"fmt"
	"strings"
	"testing"
)

// m is a compact message for the REFERENCES tables: sequence number, sent
// date (hours after day0), Message-ID, References, subject.
func m(seq uint32, hour int, id, refs, subject string) Message {
	return Message{Seq: seq, Date: day(hour), MessageID: id, References: refs, Subject: subject}
}

func TestThreadReferences(t *testing.T) {
	tests := []struct {
		name string
		msgs []Message
		want string
	}{
		{"empty", nil, ""},
		{"chain", []Message{
			m(1, 1, "<a@x>", "", "s1"),
			m(2, 2, "<b@x>", "<a@x>", "s2"),
			m(3, 3, "<c@x>", "<a@x> <b@x>", "s3"),
		}, "(1 2 3)"},
		{"siblings by date", []Message{
			m(1, 1, "<a@x>", "", "s1"),
			m(2, 5, "<b@x>", "<a@x>", "s2"),
			m(3, 3, "<c@x>", "<a@x>", "s3"),
		}, "(1 (3)(2))"},
		{"missing parent: dummy at the root", []Message{
			m(2, 1, "<b@x>", "<gone@x>", "s2"),
			m(3, 2, "<c@x>", "<gone@x>", "s3"),
		}, "((2)(3))"},
		{"missing parent, one child: promoted", []Message{
			m(2, 1, "<b@x>", "<gone@x>", "s2"),
		}, "(2)"},
		{"missing middle: child promoted to grandparent", []Message{
			m(1, 1, "<a@x>", "", "s1"),
			m(3, 2, "<c@x>", "<a@x> <gone@x>", "s3"),
		}, "(1 3)"},
		{"dummy roots sort by first child", []Message{
			m(1, 9, "<a@x>", "", "s1"),
			m(2, 5, "<b@x>", "<gone@x>", "s2"),
			m(3, 2, "<c@x>", "<gone@x>", "s3"),
		}, "((3)(2))(1)"},
		{"parent arrives after child", []Message{
			m(1, 2, "<b@x>", "<a@x>", "s2"),
			m(2, 1, "<a@x>", "", "s1"),
		}, "(2 1)"},
		{"in-reply-to when no references", []Message{
			m(1, 1, "<a@x>", "", "s1"),
			{Seq: 2, Date: day(2), MessageID: "<b@x>", InReplyTo: "<a@x> (Joe's message of Monday)", Subject: "s2"},
		}, "(1 2)"},
		{"in-reply-to when references has no valid id", []Message{
			m(1, 1, "<a@x>", "", "s1"),
			{Seq: 2, Date: day(2), MessageID: "<b@x>", References: "garbage", InReplyTo: "<a@x>", Subject: "s2"},
		}, "(1 2)"},
		{"references win over in-reply-to", []Message{
			m(1, 1, "<a@x>", "", "s1"),
			m(2, 2, "<b@x>", "", "s2"),
			{Seq: 3, Date: day(3), MessageID: "<c@x>", References: "<b@x>", InReplyTo: "<a@x>", Subject: "s3"},
		}, "(1)(2 3)"},
		{"only the first in-reply-to id", []Message{
			m(1, 1, "<a@x>", "", "s1"),
			m(2, 2, "<b@x>", "", "s2"),
			{Seq: 3, Date: day(3), MessageID: "<c@x>", InReplyTo: "<a@x> <b@x>", Subject: "s3"},
		}, "(1 3)(2)"},
		{"quoted message id matches", []Message{
			m(1, 1, `<"01KF8JCEOCBS0045PS"@xxx.yyy.com>`, "", "s1"),
			m(2, 2, "<b@x>", "<01KF8JCEOCBS0045PS@xxx.yyy.com>", "s2"),
		}, "(1 2)"},
		{"ids are case-sensitive", []Message{
			m(1, 1, "<A@x>", "", "s1"),
			m(2, 2, "<b@x>", "<a@x>", "s2"),
		}, "(1)(2)"},
		{"missing message-ids", []Message{
			m(1, 1, "", "", "s1"),
			m(2, 2, "garbage", "", "s2"),
			m(3, 3, "", "<a@x>", "s3"),
		}, "(1)(2)(3)"},
		{"duplicate message-id: lowest seq keeps it", []Message{
			m(2, 1, "<a@x>", "", "s2"),
			m(1, 2, "<a@x>", "", "s1"),
			m(3, 3, "<c@x>", "<a@x>", "s3"),
		}, "(2)(1 3)"},
		{"self reference", []Message{
			m(1, 1, "<a@x>", "<a@x>", "s1"),
		}, "(1)"},
		{"self reference mid-chain", []Message{
			m(1, 1, "<a@x>", "", "s1"),
			m(2, 2, "<b@x>", "<a@x> <b@x> <a@x>", "s2"),
		}, "(1 2)"},
		{"two-message loop", []Message{
			m(1, 1, "<a@x>", "<b@x>", "s1"),
			m(2, 2, "<b@x>", "<a@x>", "s2"),
		}, "(2 1)"},
		{"loop in one references header", []Message{
			m(1, 1, "<a@x>", "<p@x> <q@x> <p@x>", "s1"),
		}, "(1)"},
		{"step 1.A keeps an existing parent", []Message{
			m(1, 1, "<a@x>", "", "s1"),
			m(2, 2, "<b@x>", "", "s2"),
			m(3, 3, "<c@x>", "<a@x> <m@x>", "s3"),
			m(4, 4, "<d@x>", "<b@x> <m@x>", "s4"), // m stays under a
		}, "(1 (3)(4))(2)"},
		{"step 1.B replaces a parent from a truncated chain", []Message{
			m(1, 3, "<a@x>", "<x@x> <b@x>", "s1"), // b is under dummy x for now
			m(2, 1, "<b@x>", "<y@x>", "s2"),       // b's own header: parent y
			m(3, 4, "<c@x>", "<z@x> <b@x>", "s3"),
			m(4, 2, "<y@x>", "", "s4"),
		}, "(4 2 (1)(3))"},
		// Step 5: subject merging.
		{"reply joins the original", []Message{
			m(1, 1, "<a@x>", "", "foo"),
			m(2, 2, "<b@x>", "", "Re: foo"),
		}, "(1 2)"},
		{"earlier reply joins the later original", []Message{
			m(1, 1, "<a@x>", "", "Re: foo"),
			m(2, 2, "<b@x>", "", "foo"),
		}, "(2 1)"},
		{"two originals: dummy", []Message{
			m(1, 1, "<a@x>", "", "foo"),
			m(2, 2, "<b@x>", "", "FOO"),
		}, "((1)(2))"},
		{"two replies: dummy", []Message{
			m(1, 1, "<a@x>", "", "Re: foo"),
			m(2, 2, "<b@x>", "", "[list] Fwd: foo"),
		}, "((1)(2))"},
		{"forward trailer counts as a reply", []Message{
			m(1, 1, "<a@x>", "", "foo"),
			m(2, 2, "<b@x>", "", "foo (fwd)"),
		}, "(1 2)"},
		{"a list tag alone is not a reply", []Message{
			m(1, 1, "<a@x>", "", "foo"),
			m(2, 2, "<b@x>", "", "[list] foo"),
		}, "((1)(2))"},
		{"third message joins the merge dummy", []Message{
			m(1, 1, "<a@x>", "", "foo"),
			m(2, 2, "<b@x>", "", "foo"),
			m(3, 3, "<c@x>", "", "Re: foo"),
		}, "((1)(2)(3))"},
		{"dummy thread takes the matching message", []Message{
			m(1, 1, "<a@x>", "<gone@x>", "foo"),
			m(2, 2, "<b@x>", "<gone@x>", "Re: foo"),
			m(3, 3, "<c@x>", "", "foo"),
		}, "((1)(2)(3))"},
		{"two dummy threads merge", []Message{
			m(1, 1, "<a@x>", "<gone1@x>", "foo"),
			m(2, 2, "<b@x>", "<gone1@x>", "bar"),
			m(3, 3, "<c@x>", "<gone2@x>", "Re: foo"),
			m(4, 4, "<d@x>", "<gone2@x>", "baz"),
		}, "((1)(2)(3)(4))"},
		{"encoded subject merges", []Message{
			m(1, 1, "<a@x>", "", "=?UTF-8?Q?caf=C3=A9?="),
			m(2, 2, "<b@x>", "", "Re: CAFÉ"),
		}, "(1 2)"},
		{"empty subjects never merge", []Message{
			m(1, 1, "<a@x>", "", ""),
			m(2, 2, "<b@x>", "", "Re:"),
		}, "(1)(2)"},
		{"only threads at the root merge", []Message{
			m(1, 1, "<a@x>", "", "foo"),
			m(2, 2, "<b@x>", "<a@x>", "Re: foo"),
			m(3, 3, "<c@x>", "", "bar"),
			m(4, 4, "<d@x>", "<c@x>", "foo"),
		}, "(1 2)(3 4)"},
		{"equal dates by sequence number", []Message{
			m(3, 1, "<c@x>", "<a@x>", "s3"),
			m(1, 1, "<a@x>", "", "s1"),
			m(2, 1, "<b@x>", "<a@x>", "s2"),
		}, "(1 (2)(3))"},
		{"missing date uses internal date", []Message{
			m(1, 5, "<a@x>", "", "s1"),
			{Seq: 2, InternalDate: day(1), MessageID: "<b@x>", Subject: "s2"},
		}, "(2)(1)"},
	}
	for _, tt := range tests {
		if got := FormatThreads(ThreadReferences(tt.msgs), seqNum); got != tt.want {
			t.Errorf("%s: ThreadReferences = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// A 10,000-deep reply chain and a References header naming all of it:
// one thread, printed as one run of numbers (no recursion limit, no
// quadratic walk on the common path).
func TestThreadReferencesDeepChain(t *testing.T) {
	const n = 10000
	msgs := make([]Message, n)
	var refs, want strings.Builder
	want.WriteByte('(')
	for i := range msgs {
		id := fmt.Sprintf("<m%d@x>", i)
		msgs[i] = Message{Seq: uint32(i + 1), Date: day(i), MessageID: id, References: fmt.Sprintf("<m%d@x>", i-1)}
		if i > 0 {
			want.WriteByte(' ')
		}
		fmt.Fprint(&want, i+1)
		refs.WriteString(id + " ")
	}
	msgs = append(msgs, Message{Seq: n + 1, Date: day(n), MessageID: "<last@x>", References: refs.String()})
	fmt.Fprintf(&want, " %d)", n+1)
	if got := FormatThreads(ThreadReferences(msgs), seqNum); got != want.String() {
		t.Errorf("ThreadReferences(deep chain) = %.60s..., want %.60s...", got, want.String())
	}
}
