package imapwire

import (
	"bufio"
	"io"
	"strings"
	"testing"
)

// readerFromSink is a writer that takes readers too, as the server's
// connection writer does (sendfile), and counts how it was fed.
type readerFromSink struct {
	b         strings.Builder
	writes    int
	readFroms int
}

func (s *readerFromSink) Write(p []byte) (int, error) {
	s.writes++
	return s.b.Write(p)
}

func (s *readerFromSink) ReadFrom(r io.Reader) (int64, error) {
	s.readFroms++
	return io.Copy(&s.b, r)
}

// onlyReader hides a reader's WriteTo, so that io.Copy calls ReadFrom.
type onlyReader struct{ io.Reader }

// TestLiteralReadFrom: io.Copy into a literal goes through ReadFrom, keeps
// the literal's length (a short or long source is an error) and hands the
// body to a writer that takes readers in one call.
func TestLiteralReadFrom(t *testing.T) {
	body := strings.Repeat("0123456789abcdef", 1024) // 16 KiB, past the buffer
	tests := []struct {
		name    string
		size    int64
		src     func() io.Reader
		want    string
		wantErr bool
		oneCall bool // the body reaches the sink in one ReadFrom
	}{
		{"exact", int64(len(body)), func() io.Reader { return strings.NewReader(body) }, "{16384}\r\n" + body + ")", false, false},
		{"bounded reader", int64(len(body)), func() io.Reader {
			return &io.LimitedReader{R: strings.NewReader(body + "tail"), N: int64(len(body))}
		}, "{16384}\r\n" + body + ")", false, true},
		{"empty", 0, func() io.Reader { return strings.NewReader("") }, "{0}\r\n)", false, false},
		{"short", int64(len(body)) + 1, func() io.Reader { return strings.NewReader(body) }, "", true, false},
		{"long", int64(len(body)) - 1, func() io.Reader { return strings.NewReader(body) }, "", true, false},
		{"long, through ReadFrom", int64(len(body)) - 1, func() io.Reader { return onlyReader{strings.NewReader(body)} }, "", true, false},
		{"short, through ReadFrom", int64(len(body)) + 1, func() io.Reader { return onlyReader{strings.NewReader(body)} }, "", true, false},
		{"exact, through ReadFrom", int64(len(body)), func() io.Reader { return onlyReader{strings.NewReader(body)} }, "{16384}\r\n" + body + ")", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sink readerFromSink
			e := NewEncoder(bufio.NewWriterSize(&sink, 4096))
			lw := e.Literal(tt.size)
			_, err := io.Copy(lw, tt.src())
			if cerr := lw.Close(); err == nil {
				err = cerr
			}
			e.Special(')')
			if ferr := e.Flush(); err == nil {
				err = ferr
			}
			if tt.wantErr {
				if err == nil {
					t.Errorf("io.Copy into a literal of %d = nil error, want one", tt.size)
				}
				return
			}
			if err != nil {
				t.Fatalf("io.Copy into a literal = %v", err)
			}
			if got := sink.b.String(); got != tt.want {
				t.Errorf("output = %d octets %.40q..., want %d octets", len(got), got, len(tt.want))
			}
			if tt.oneCall && sink.readFroms != 1 {
				t.Errorf("ReadFrom calls on the connection = %d, want 1 (the body in one call)", sink.readFroms)
			}
		})
	}
}
