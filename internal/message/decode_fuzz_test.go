package message

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime/quotedprintable"
	"testing"
)

// readAllIn reads r through a buffer of n bytes (at least 1), so that the
// decoders see every split of their input.
func readAllIn(r io.Reader, n int) ([]byte, error) {
	var out []byte
	buf := make([]byte, max(n, 1))
	for {
		k, err := r.Read(buf)
		out = append(out, buf[:k]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

var fuzzEncodings = []string{"base64", "quoted-printable", "7bit"}

// FuzzDecodedReader feeds arbitrary bodies to the lenient transfer
// decoders (RFC 2045 §6.7, §6.8): they must not panic, must give the same
// text whatever the size of the reads, and never produce more than the
// encoding allows (base64: 3 octets per 4; quoted-printable: at most one
// octet per input octet).
func FuzzDecodedReader(f *testing.F) {
	for _, s := range []string{
		"SGVsbG8sIHdvcmxkIQ==\r\n", "SGVs\r\nbG8=\r\n=", "!!junk!!QUJD", "=3D=0D=0A soft=\r\nbreak  \r\n",
		"=\r\n", "=4", "=zz=4G", "caf=C3=A9\r\n\t \r\n", "line\rwith\rCR", "\x00\xff=\xff",
	} {
		for enc := range fuzzEncodings {
			f.Add([]byte(s), uint8(enc), uint8(3))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, enc, chunk uint8) {
		p := &Part{End: int64(len(body)), Encoding: fuzzEncodings[int(enc)%len(fuzzEncodings)]}
		whole, err := io.ReadAll(DecodedReader(bytes.NewReader(body), p))
		if err != nil && p.Encoding != "base64" { // base64 reports corrupt input; the others never fail
			t.Fatalf("%s %q: %v", p.Encoding, body, err)
		}
		split, err2 := readAllIn(DecodedReader(bytes.NewReader(body), p), int(chunk))
		if (err == nil) != (err2 == nil) || !bytes.Equal(whole, split) {
			t.Fatalf("%s %q: ReadAll = %q, %v; %d-byte reads = %q, %v", p.Encoding, body, whole, err, chunk, split, err2)
		}
		switch p.Encoding {
		case "base64":
			if len(whole) > len(body)*3/4 {
				t.Fatalf("base64 %q: %d octets out of %d", body, len(whole), len(body))
			}
		case "quoted-printable":
			if len(whole) > len(body) {
				t.Fatalf("quoted-printable %q: %d octets out of %d", body, len(whole), len(body))
			}
		default:
			if !bytes.Equal(whole, body) {
				t.Fatalf("7bit %q decoded to %q", body, whole)
			}
		}
	})
}

// FuzzTransferRoundTrip encodes arbitrary octets with the standard
// library's encoders, as a sending MUA would (base64 in 76-column CRLF
// lines, binary quoted-printable), and checks the lenient decoders give
// them back exactly.
func FuzzTransferRoundTrip(f *testing.F) {
	for _, s := range []string{"", "Hello, world!", "caf\xc3\xa9 = 100%\r\n", "trailing space \r\nand tab\t\n", "\x00\x01\xfe\xff", "=\r\n.\r\n", string(bytes.Repeat([]byte("x "), 100))} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var b64 bytes.Buffer
		enc := base64.StdEncoding.EncodeToString(data)
		for len(enc) > 76 {
			b64.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b64.WriteString(enc + "\r\n")

		var qp bytes.Buffer
		w := quotedprintable.NewWriter(&qp)
		w.Binary = true
		w.Write(data)
		w.Close()

		for _, c := range []struct {
			enc  string
			body []byte
		}{{"base64", b64.Bytes()}, {"quoted-printable", qp.Bytes()}} {
			p := &Part{End: int64(len(c.body)), Encoding: c.enc}
			got, err := io.ReadAll(DecodedReader(bytes.NewReader(c.body), p))
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("%s of %q is %q; decoded %q, %v", c.enc, data, c.body, got, err)
			}
		}
	})
}

// TestBase64Quanta checks the lenient base64 decoder (RFC 2045 §6.8) on
// what broken senders write, whatever the size of the reads.
func TestBase64Quanta(t *testing.T) {
	tests := []struct {
		in, want string
		err      bool
	}{
		{"QUJD\r\nREVG\r\n", "ABCDEF", false},
		{"QU\r\nJD !!\tRE*VG", "ABCDEF", false},
		{"QUI=\r\n", "AB", false},
		{"QQ==\r\n\r\n--junk--", "A", true}, // letters after the padding
		{"QUI=QUJD", "AB", true},            // testdata/fuzz/FuzzDecodedReader/crasher-base64-data-after-padding
		{"000= 0000", "\xd3M", true},
		{"QUJDRA", "ABC", true}, // a partial quantum at the end
		{"=QUJ", "", true},
		{"", "", false},
	}
	for _, tt := range tests {
		for _, chunk := range []int{1, 2, 3, 5, 512} {
			p := &Part{End: int64(len(tt.in)), Encoding: "base64"}
			got, err := readAllIn(DecodedReader(bytes.NewReader([]byte(tt.in)), p), chunk)
			if string(got) != tt.want || (err != nil) != tt.err {
				t.Errorf("base64 %q in %d-byte reads = %q, %v; want %q, error %v", tt.in, chunk, got, err, tt.want, tt.err)
			}
		}
	}
}
