package message

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// v2Encoding is testdata/rfc822-inside.eml as binaryVersion 2 encoded it,
// before HeaderSum, Preview and Envelope.References were added.
const v2Encoding = "02040200020400bf01d60211000001096d756c746970617274056d697865640208626f756e64617279056f7574657200001f5765642c203235204e6f7620323032362031303a30303a3030202b303030300d4677643a206f726967696e616c030009466f7277617264657200036677640b6578616d706c652e636f6d00000300000007736f6d656f6e650b6578616d706c652e6f72670101000002c8011c0a00000000047465787405706c61696e0000f90148c70107000002076d65737361676506726663383232000011666f72776172646564206d65737361676500000000000001c1029b012c01000001047465787405706c61696e0207636861727365740855532d415343494900001f5475652c203234204e6f7620323032362030393a30303a3030202d30383030086f726967696e616c03000f4f726967696e616c2053656e64657200046f7269670b6578616d706c652e6e6574000003000000036677640b6578616d706c652e636f6d010100123c6f726967406578616d706c652e6e65743e00"

// An entry written by an older version is refused, never misread, so that
// the index parses the message again.
func TestUnmarshalOldVersion(t *testing.T) {
	old, err := hex.DecodeString(v2Encoding)
	if err != nil {
		t.Fatal(err)
	}
	if old[0] != 2 {
		t.Fatalf("version byte %d, want 2", old[0])
	}
	if p, err := UnmarshalPart(old); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("UnmarshalPart(v2) = %v, %v, want ErrCorrupt", p, err)
	}
}

// The cached values equal what the message itself says: HeaderSum is the
// SHA-256 of the stored header, References the header's value, also when
// the header is longer than what Part.Header keeps.
func TestCachedValuesMatchMessage(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.eml")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, maxHeader := range []int{0, 16} {
			ps := Parser{MaxHeaderBytes: maxHeader}
			p, err := ps.Parse(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data[p.HeaderStart:p.BodyStart])
			if !bytes.Equal(p.HeaderSum[:], sum[:16]) {
				t.Errorf("%s max %d: HeaderSum %x, want %x", name, maxHeader, p.HeaderSum, sum[:16])
			}
			full, _ := Parse(bytes.NewReader(data[:p.BodyStart]), p.BodyStart)
			if maxHeader == 0 && p.Envelope.References != full.Header.Get("References") {
				t.Errorf("%s: References %q, want %q", name, p.Envelope.References, full.Header.Get("References"))
			}
			enc, _ := p.MarshalBinary()
			q, err := UnmarshalPart(enc)
			if err != nil {
				t.Fatal(err)
			}
			if q.HeaderSum != p.HeaderSum || q.Envelope.References != p.Envelope.References {
				t.Errorf("%s: cached HeaderSum/References differ from parsed", name)
			}
			p.Walk(func(_ []int, c *Part) bool {
				if c != p && c.HeaderSum != ([16]byte{}) {
					t.Errorf("%s: HeaderSum set on part at %d, want top level only", name, c.HeaderStart)
				}
				return true
			})
		}
	}
}

func TestReferencesParsed(t *testing.T) {
	msg := "References: <a@x>\r\n <b@x>\r\nIn-Reply-To: <b@x>\r\nMessage-ID: <c@x>\r\n\r\nbody\r\n"
	p, _ := Parse(bytes.NewReader([]byte(msg)), int64(len(msg)))
	if got, want := p.Envelope.References, "<a@x> <b@x>"; got != want {
		t.Errorf("References = %q, want %q", got, want)
	}
	checkRoundTrip(t, p)
}

// A preview set by the adapter survives the encoding, the empty one
// included, and a part without one stays without.
func TestPreviewRoundTrip(t *testing.T) {
	b, _ := os.ReadFile("testdata/nested3.eml")
	for _, pv := range []struct {
		text string
		has  bool
	}{{"", false}, {"", true}, {"Hello, wörld", true}} {
		p, _ := Parse(bytes.NewReader(b), int64(len(b)))
		p.Preview, p.HasPreview = pv.text, pv.has
		checkRoundTrip(t, p)
	}
}

func TestUnmarshalUnknownFlag(t *testing.T) {
	msg := "Subject: x\r\n\r\n"
	p, _ := Parse(bytes.NewReader([]byte(msg)), int64(len(msg)))
	p.Envelope = nil
	p.HeaderSum = [16]byte{}
	enc, _ := p.MarshalBinary()
	// version, 5 counts, 6 offsets: the flags byte follows.
	i := 1 + 5 + 6
	if enc[i] != 0 {
		t.Fatalf("flags byte %#x at %d, want 0", enc[i], i)
	}
	enc[i] = 1 << 7
	if _, err := UnmarshalPart(enc); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("UnmarshalPart(unknown flag) = %v, want ErrCorrupt", err)
	}
}

// FuzzPreviewRoundTrip checks that every parsed structure, with any
// preview, decodes back to itself.
func FuzzPreviewRoundTrip(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.eml")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b, "a preview", true)
		}
	}
	f.Add([]byte("References: <a@b>\r\n\r\n"), "", true)
	f.Add([]byte(""), "x", false)
	f.Fuzz(func(t *testing.T, data []byte, preview string, has bool) {
		p, err := Parse(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		p.Preview, p.HasPreview = preview, has
		enc, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		q, err := UnmarshalPart(enc)
		if err != nil {
			t.Fatalf("UnmarshalPart: %v", err)
		}
		want := *p
		stripHeaders(&want)
		if !has {
			want.Preview = ""
		}
		if !reflect.DeepEqual(q, &want) {
			t.Fatalf("round trip differs:\n got %+v\nwant %+v", q, &want)
		}
		again, _ := q.MarshalBinary()
		if !bytes.Equal(again, enc) {
			t.Fatalf("re-encoding differs")
		}
	})
}
