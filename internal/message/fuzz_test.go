package message

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.eml")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add(deepMessage(3))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\n\n--a\n--a\n\n--a--"))
	f.Add([]byte("Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\n"))
	f.Add([]byte("\r\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, maxDepth := range []int{0, 2} {
			ps := Parser{MaxDepth: maxDepth, MaxHeaderBytes: 64}
			p, err := ps.Parse(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkInvariants(t, p, int64(len(data)))
			var lf, bare int64
			for i, c := range data[p.BodyStart:p.End] {
				if c == '\n' {
					lf++
					if i == 0 && (p.BodyStart == 0 || data[p.BodyStart-1] != '\r') || i > 0 && data[int(p.BodyStart)+i-1] != '\r' {
						bare++
					}
				}
			}
			if lf != p.BodyLines || bare != p.BareLFBody {
				t.Fatalf("BodyLines, BareLFBody = %d, %d, want %d, %d", p.BodyLines, p.BareLFBody, lf, bare)
			}
			p.Walk(func(path []int, q *Part) bool {
				// Walk paths resolve back to the part, or to the
				// message/rfc822 part that encapsulates it.
				r, ok := p.Section(path)
				for ok && r != q && r.IsMessage() {
					r = r.Children[0]
				}
				if !ok || r != q {
					t.Fatalf("Section(%v) = %v, %v, want part at %d", path, r, ok, q.HeaderStart)
				}
				return true
			})
			checkRoundTrip(t, p)
		}
	})
}

func FuzzUnmarshalPart(f *testing.F) {
	for _, name := range []string{"testdata/nested3.eml", "testdata/groups-and-routes.eml"} {
		b, _ := os.ReadFile(name)
		p, _ := Parse(bytes.NewReader(b), int64(len(b)))
		enc, _ := p.MarshalBinary()
		f.Add(enc)
	}
	f.Add([]byte{binaryVersion, 1, 0, 0, 0, 0})
	{
		msg := []byte("References: <a@b> <c@d>\r\n\r\nhello\r\n")
		p, _ := Parse(bytes.NewReader(msg), int64(len(msg)))
		p.Preview, p.HasPreview = "hello", true
		enc, _ := p.MarshalBinary()
		f.Add(enc)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		bare, bareErr := RootBareLF(data) // must not panic on anything
		p, err := UnmarshalPart(data)
		if err != nil {
			return
		}
		// RootBareLF reads the root as UnmarshalPart does.
		if bareErr != nil || bare != p.BareLFHeader+p.BareLFBody {
			t.Errorf("RootBareLF = %d, %v; UnmarshalPart's root has %d", bare, bareErr, p.BareLFHeader+p.BareLFBody)
		}
		// What decodes must encode back to the same bytes.
		enc, err := p.MarshalBinary()
		if err != nil || !bytes.Equal(enc, data) {
			t.Skip("non-canonical encoding") // e.g. overlong varints
		}
	})
}

func TestUnmarshalCorrupt(t *testing.T) {
	b, _ := os.ReadFile("testdata/rfc822-inside.eml")
	p, _ := Parse(bytes.NewReader(b), int64(len(b)))
	enc, _ := p.MarshalBinary()
	for i := range enc {
		if _, err := UnmarshalPart(enc[:i]); err == nil {
			t.Errorf("UnmarshalPart(first %d of %d bytes) succeeded, want error", i, len(enc))
		}
	}
	if _, err := UnmarshalPart(append(enc, 0)); err == nil {
		t.Errorf("UnmarshalPart(with a trailing byte) succeeded, want error")
	}
}
