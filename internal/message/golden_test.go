package message

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the .golden files in testdata")

// dumpPart writes a readable description of the tree under p, one part per
// block, labelled by IMAP section number.
func dumpPart(sb *strings.Builder, p *Part, label string, indent string) {
	fmt.Fprintf(sb, "%s%s: %s/%s header=%d..%d body=%d..%d size=%d lines=%d",
		indent, label, p.Type, p.Subtype, p.HeaderStart, p.BodyStart, p.BodyStart, p.End, p.Size(), p.BodyLines)
	if p.BareLFHeader != 0 || p.BareLFBody != 0 {
		fmt.Fprintf(sb, " barelf=%d/%d", p.BareLFHeader, p.BareLFBody)
	}
	sb.WriteByte('\n')
	in := indent + "  "
	if len(p.Params) > 0 {
		fmt.Fprintf(sb, "%sparams:%s\n", in, fmtParams(p.Params))
	}
	for _, kv := range [][2]string{
		{"id", p.ID}, {"description", p.Description}, {"encoding", p.Encoding},
		{"location", p.Location}, {"md5", p.MD5},
	} {
		if kv[1] != "" {
			fmt.Fprintf(sb, "%s%s: %q\n", in, kv[0], kv[1])
		}
	}
	if p.Disposition != "" || p.DispositionParams != nil {
		fmt.Fprintf(sb, "%sdisposition: %q%s\n", in, p.Disposition, fmtParams(p.DispositionParams))
	}
	if p.Language != nil {
		fmt.Fprintf(sb, "%slanguage: %q\n", in, p.Language)
	}
	if e := p.Envelope; e != nil {
		fmt.Fprintf(sb, "%senvelope:\n", in)
		ein := in + "  "
		fmt.Fprintf(sb, "%sdate: %q\n%ssubject: %q\n", ein, e.Date, ein, e.Subject)
		for _, l := range []struct {
			name string
			as   []Address
		}{{"from", e.From}, {"sender", e.Sender}, {"reply-to", e.ReplyTo}, {"to", e.To}, {"cc", e.Cc}, {"bcc", e.Bcc}} {
			fmt.Fprintf(sb, "%s%s: %s\n", ein, l.name, fmtAddrs(l.as))
		}
		fmt.Fprintf(sb, "%sin-reply-to: %q\n%smessage-id: %q\n", ein, e.InReplyTo, ein, e.MessageID)
	}
	for i, c := range p.Children {
		switch {
		case p.IsMessage():
			dumpPart(sb, c, label+"/message", in)
		case label == "message" || strings.HasSuffix(label, "/message"):
			dumpPart(sb, c, fmt.Sprint(strings.TrimSuffix(strings.TrimSuffix(label, "message"), "/"), dot(label), i+1), in)
		default:
			dumpPart(sb, c, fmt.Sprintf("%s.%d", label, i+1), in)
		}
	}
}

func dot(label string) string {
	if label == "message" {
		return ""
	}
	return "."
}

func fmtParams(ps []Param) string {
	var sb strings.Builder
	for _, q := range ps {
		fmt.Fprintf(&sb, " %s=%q", q.Name, q.Value)
		if q.Charset != "" || q.Language != "" {
			fmt.Fprintf(&sb, "(%s'%s')", q.Charset, q.Language)
		}
	}
	return sb.String()
}

func fmtAddrs(as []Address) string {
	if as == nil {
		return "NIL"
	}
	var parts []string
	for _, a := range as {
		switch {
		case a.GroupStart:
			parts = append(parts, fmt.Sprintf("[group %q]", a.Mailbox))
		case a.GroupEnd:
			parts = append(parts, "[end group]")
		default:
			parts = append(parts, fmt.Sprintf("(%q %q %q %q)", a.Name, a.Route, a.Mailbox, a.Host))
		}
	}
	return strings.Join(parts, " ")
}

func dump(p *Part) string {
	var sb strings.Builder
	dumpPart(&sb, p, "message", "")
	return sb.String()
}

// checkInvariants verifies the offset rules every parsed tree obeys.
func checkInvariants(t testing.TB, p *Part, size int64) {
	t.Helper()
	var check func(p *Part, lo, hi int64)
	check = func(p *Part, lo, hi int64) {
		if !(lo <= p.HeaderStart && p.HeaderStart <= p.BodyStart && p.BodyStart <= p.End && p.End <= hi) {
			t.Fatalf("part offsets %d..%d..%d outside %d..%d", p.HeaderStart, p.BodyStart, p.End, lo, hi)
		}
		if p.BodyLines < 0 || p.BodyLines > p.Size() || p.BareLFBody > p.BodyLines || p.BareLFHeader < 0 || p.BareLFBody < 0 {
			t.Fatalf("part counts lines=%d barelf=%d/%d size=%d", p.BodyLines, p.BareLFHeader, p.BareLFBody, p.Size())
		}
		prev := p.BodyStart
		for _, c := range p.Children {
			check(c, prev, p.End)
			prev = c.End
		}
		if p.Type == "message" && p.Subtype == "rfc822" && len(p.Children) == 1 {
			c := p.Children[0]
			if c.HeaderStart != p.BodyStart || c.End != p.End || c.Envelope == nil {
				t.Fatalf("message/rfc822 child %d..%d, want %d..%d with envelope", c.HeaderStart, c.End, p.BodyStart, p.End)
			}
		}
	}
	check(p, 0, size)
	if p.HeaderStart != 0 || p.End != size {
		t.Fatalf("top part spans %d..%d, want 0..%d", p.HeaderStart, p.End, size)
	}
}

// stripHeaders clears what MarshalBinary does not keep.
func stripHeaders(p *Part) {
	p.Header = Header{}
	for _, c := range p.Children {
		stripHeaders(c)
	}
}

func checkRoundTrip(t testing.TB, p *Part) {
	t.Helper()
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary: %v", err)
	}
	q, err := UnmarshalPart(b)
	if err != nil {
		t.Fatalf("UnmarshalPart: %v", err)
	}
	want := *p
	stripHeaders(&want)
	if !reflect.DeepEqual(q, &want) {
		t.Fatalf("UnmarshalPart(MarshalBinary(p)) differs:\n got %s\nwant %s", dump(q), dump(&want))
	}
}

func parseFile(t *testing.T, name string) (*Part, []byte) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return p, data
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.eml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 15 {
		t.Fatalf("testdata has %d .eml files, want at least 15", len(files))
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			p, data := parseFile(t, name)
			checkInvariants(t, p, int64(len(data)))
			got := dump(p)
			golden := strings.TrimSuffix(name, ".eml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("dump(Parse(%s)) =\n%s\nwant\n%s", name, got, want)
			}
			// Stripping headers would break later subtests' view of p.
			p2, _ := parseFile(t, name)
			checkRoundTrip(t, p2)
		})
	}
}
