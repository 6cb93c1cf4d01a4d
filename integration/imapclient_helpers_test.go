package integration

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// dialIMAP connects imapclient to a plain port and waits for the greeting.
func dialIMAP(t *testing.T, addr string, h *imapclient.UnilateralDataHandler) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, &imapclient.Options{
		Dialer:                &net.Dialer{Timeout: ioTimeout},
		UnilateralDataHandler: h,
	})
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.WaitGreeting(); err != nil {
		t.Fatalf("greeting from %s: %v", addr, err)
	}
	return c
}

// loginIMAP is dialIMAP then LOGIN demo demo.
func loginIMAP(t *testing.T, addr string, h *imapclient.UnilateralDataHandler) *imapclient.Client {
	t.Helper()
	c := dialIMAP(t, addr, h)
	if err := c.Login("demo", "demo").Wait(); err != nil {
		t.Fatalf("LOGIN demo demo: %v", err)
	}
	return c
}

func selectMailbox(t *testing.T, c *imapclient.Client, name string, readOnly bool) *imap.SelectData {
	t.Helper()
	d, err := c.Select(name, &imap.SelectOptions{ReadOnly: readOnly}).Wait()
	if err != nil {
		t.Fatalf("SELECT %s (read-only %v): %v", name, readOnly, err)
	}
	return d
}

func fetch(t *testing.T, c *imapclient.Client, set imap.NumSet, opts *imap.FetchOptions) []*imapclient.FetchMessageBuffer {
	t.Helper()
	msgs, err := c.Fetch(set, opts).Collect()
	if err != nil {
		t.Fatalf("FETCH %v: %v", set, err)
	}
	sort.Slice(msgs, func(i, j int) bool { return msgs[i].SeqNum < msgs[j].SeqNum })
	return msgs
}

// flagsOf fetches the flags of every message, by sequence number, as
// sorted strings without \Recent (which depends on which session saw the
// message first).
func flagsOf(t *testing.T, c *imapclient.Client) map[uint32]string {
	t.Helper()
	out := map[uint32]string{}
	for _, m := range fetch(t, c, imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{Flags: true}) {
		out[m.SeqNum] = flagString(m.Flags)
	}
	return out
}

func flagString(flags []imap.Flag) string {
	var s []string
	for _, f := range flags {
		if !strings.EqualFold(string(f), `\Recent`) {
			s = append(s, string(f))
		}
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

func searchSeq(t *testing.T, c *imapclient.Client, crit *imap.SearchCriteria) []uint32 {
	t.Helper()
	d, err := c.Search(crit, nil).Wait()
	if err != nil {
		t.Fatalf("SEARCH %+v: %v", crit, err)
	}
	return d.AllSeqNums()
}

func statusOf(t *testing.T, c *imapclient.Client, name string) string {
	t.Helper()
	d, err := c.Status(name, &imap.StatusOptions{NumMessages: true, UIDNext: true, NumUnseen: true}).Wait()
	if err != nil {
		t.Fatalf("STATUS %s: %v", name, err)
	}
	return fmt.Sprintf("messages=%d uidnext=%d unseen=%d", deref(d.NumMessages), d.UIDNext, deref(d.NumUnseen))
}

func deref(p *uint32) int64 {
	if p == nil {
		return -1
	}
	return int64(*p)
}

// listNames runs LIST and returns "name attrs" lines, sorted, with the
// attributes sorted and the delimiter checked.
func listNames(t *testing.T, c *imapclient.Client, ref, pattern string) []string {
	t.Helper()
	l, err := c.List(ref, pattern, nil).Collect()
	if err != nil {
		t.Fatalf("LIST %q %q: %v", ref, pattern, err)
	}
	var out []string
	for _, d := range l {
		if d.Delim != '/' {
			t.Errorf("LIST %q %q: %s has delimiter %q, want '/'", ref, pattern, d.Mailbox, d.Delim)
		}
		var attrs []string
		for _, a := range d.Attrs {
			attrs = append(attrs, string(a))
		}
		sort.Strings(attrs)
		out = append(out, strings.TrimSpace(d.Mailbox+" "+strings.Join(attrs, " ")))
	}
	sort.Strings(out)
	return out
}

// recv waits for one value, failing the test after ioTimeout. The bound
// only turns a missing notification into a failure.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(ioTimeout):
		t.Fatalf("no %s within %v", what, ioTimeout)
		var zero T
		return zero
	}
}

// bsString renders a body structure canonically: media type, parameters
// (sorted, lower-case names), encoding, size, lines, disposition and, for
// message/rfc822, the subject and structure of the enclosed message.
func bsString(bs imap.BodyStructure) string {
	switch b := bs.(type) {
	case *imap.BodyStructureSinglePart:
		s := b.MediaType() + paramString(b.Params) + " " + strings.ToLower(b.Encoding) + fmt.Sprintf(" %d", b.Size)
		if b.MessageRFC822 != nil {
			s += fmt.Sprintf(" {%s: %s} L%d", b.MessageRFC822.Envelope.Subject, bsString(b.MessageRFC822.BodyStructure), b.MessageRFC822.NumLines)
		}
		if b.Text != nil {
			s += fmt.Sprintf(" L%d", b.Text.NumLines)
		}
		if d := b.Disposition(); d != nil {
			s += " disp=" + strings.ToLower(d.Value) + paramString(d.Params)
		}
		return s
	case *imap.BodyStructureMultiPart:
		var params map[string]string
		if b.Extended != nil {
			params = b.Extended.Params
		}
		var kids []string
		for _, k := range b.Children {
			kids = append(kids, bsString(k))
		}
		return b.MediaType() + paramString(params) + "[" + strings.Join(kids, ", ") + "]"
	}
	return fmt.Sprintf("%T", bs)
}

func paramString(p map[string]string) string {
	var kv []string
	for k, v := range p {
		kv = append(kv, strings.ToLower(k)+"="+v)
	}
	slices.Sort(kv)
	return "(" + strings.Join(kv, " ") + ")"
}

// bodyOf returns the body (after the blank line) of a demo message.
func bodyOf(msg []byte) []byte {
	s := string(msg)
	i := strings.Index(s, "\r\n\r\n")
	return msg[i+4:]
}

// headerOf returns the header (with the blank line) of a demo message.
func headerOf(msg []byte) []byte {
	s := string(msg)
	i := strings.Index(s, "\r\n\r\n")
	return msg[:i+4]
}

// plainSASL is SASL PLAIN (RFC 4616) and loginSASL the LOGIN mechanism
// (draft-murchison-sasl-login), written here so the tests do not depend
// on go-sasl's client constructors.
type plainSASL struct{ user, pass string }

func (p plainSASL) Start() (string, []byte, error) {
	return "PLAIN", []byte("\x00" + p.user + "\x00" + p.pass), nil
}
func (p plainSASL) Next([]byte) ([]byte, error) {
	return nil, fmt.Errorf("PLAIN: unexpected challenge")
}

type loginSASL struct {
	user, pass string
	step       *int
}

func (l loginSASL) Start() (string, []byte, error) { return "LOGIN", nil, nil }
func (l loginSASL) Next(challenge []byte) ([]byte, error) {
	*l.step++
	switch *l.step {
	case 1:
		return []byte(l.user), nil
	case 2:
		return []byte(l.pass), nil
	}
	return nil, fmt.Errorf("LOGIN: unexpected challenge %q", challenge)
}

// stateOf returns imapclient's connection state once the last command has
// been fully processed: imapclient signals a command's completion before
// it updates its state, so a NOOP round trip is the barrier.
func stateOf(t *testing.T, c *imapclient.Client) imap.ConnState {
	t.Helper()
	if err := c.Noop().Wait(); err != nil {
		t.Fatalf("NOOP: %v", err)
	}
	return c.State()
}
