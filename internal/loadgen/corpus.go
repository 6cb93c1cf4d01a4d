package loadgen

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// words make subjects and bodies; SEARCH and SORT look for some of them.
var words = strings.Fields(`alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo
lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu
invoice meeting report budget holiday release server backup schedule project review draft
quarterly minutes agenda lunch ticket update reminder contract proposal travel`)

// searchWords are what SEARCH SUBJECT/BODY and SORT look for: all of them
// occur in a generated corpus.
var searchWords = []string{"invoice", "meeting", "report", "release", "backup"}

// sizeClass is one band of the generated corpus: share in percent, body
// size in octets, and whether the body is a multipart with an attachment.
type sizeClass struct {
	share     int
	size      int
	multipart bool
}

// classes spread sizes as a mailbox does: mostly small text, some
// attachments, a few large ones.
var classes = []sizeClass{
	{40, 1 << 10, false},
	{30, 4 << 10, false},
	{18, 20 << 10, false},
	{10, 60 << 10, true},
	{2, 200 << 10, true},
}

// GenerateCorpus returns n RFC 5322 messages of varied sizes (about 1 KiB
// to 200 KiB, some multipart with a base64 attachment), the same for the
// same seed, with CRLF line ends.
func GenerateCorpus(n int, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 0x706f737465726e))
	base := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	out := make([][]byte, 0, n)
	for i := range n {
		cl := pickClass(rng)
		var b bytes.Buffer
		subject := sentence(rng, 3+rng.IntN(4)) + " " + searchWords[i%len(searchWords)]
		fmt.Fprintf(&b, "From: User %d <user%d@example.org>\r\n", i%17, i%17)
		fmt.Fprintf(&b, "To: load@example.org\r\n")
		fmt.Fprintf(&b, "Subject: %s #%d\r\n", subject, i)
		fmt.Fprintf(&b, "Date: %s\r\n", base.Add(time.Duration(i)*time.Hour).Format(time.RFC1123Z))
		fmt.Fprintf(&b, "Message-ID: <loadgen-%d-%d@example.org>\r\n", seed, i)
		b.WriteString("MIME-Version: 1.0\r\n")
		if !cl.multipart {
			b.WriteString("Content-Type: text/plain; charset=us-ascii\r\n\r\n")
			writeText(&b, rng, cl.size)
			out = append(out, b.Bytes())
			continue
		}
		const boundary = "loadgen-boundary"
		b.WriteString("Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n\r\n")
		b.WriteString("--" + boundary + "\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
		writeText(&b, rng, 2<<10)
		b.WriteString("--" + boundary + "\r\nContent-Type: application/octet-stream\r\n")
		fmt.Fprintf(&b, "Content-Disposition: attachment; filename=\"file%d.bin\"\r\n", i)
		b.WriteString("Content-Transfer-Encoding: base64\r\n\r\n")
		raw := make([]byte, cl.size*3/4)
		for j := range raw {
			raw[j] = byte(rng.Uint32())
		}
		enc := base64.StdEncoding.EncodeToString(raw)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\r\n--" + boundary + "--\r\n")
		out = append(out, b.Bytes())
	}
	return out
}

func pickClass(rng *rand.Rand) sizeClass {
	r := rng.IntN(100)
	for _, c := range classes {
		if r < c.share {
			return c
		}
		r -= c.share
	}
	return classes[0]
}

func sentence(rng *rand.Rand, n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = words[rng.IntN(len(words))]
	}
	return strings.Join(w, " ")
}

// writeText writes about size octets of text in lines under 78 octets.
func writeText(b *bytes.Buffer, rng *rand.Rand, size int) {
	for n := 0; n < size; {
		line := sentence(rng, 8+rng.IntN(4))
		b.WriteString(line + "\r\n")
		n += len(line) + 2
	}
}

// LoadCorpus reads the *.eml files of dir, in name order, with their line
// ends made CRLF as APPEND requires (RFC 3501 §6.3.11 takes an RFC 5322
// message).
func LoadCorpus(dir string) ([][]byte, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("loadgen: no .eml files in %s", dir)
	}
	var out [][]byte
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("loadgen: %w", err)
		}
		out = append(out, toCRLF(b))
	}
	return out, nil
}

// toCRLF turns bare LF line ends into CRLF and leaves CRLF alone.
func toCRLF(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b) + len(b)/40)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out.Write(b)
			break
		}
		line := bytes.TrimSuffix(b[:i], []byte("\r"))
		out.Write(line)
		out.WriteString("\r\n")
		b = b[i+1:]
	}
	return out.Bytes()
}
