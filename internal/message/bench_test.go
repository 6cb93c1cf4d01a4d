package message

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func benchMessage(b *testing.B) []byte {
	var sb strings.Builder
	msg, err := os.ReadFile("testdata/nested3.eml")
	if err != nil {
		b.Fatal(err)
	}
	sb.Write(msg[:bytes.Index(msg, []byte("--L1--"))])
	// A 1 MiB text attachment of 76-column lines.
	sb.WriteString("--L1\r\nContent-Type: text/plain\r\n\r\n")
	line := strings.Repeat("x", 76) + "\r\n"
	for sb.Len() < 1<<20 {
		sb.WriteString(line)
	}
	sb.WriteString("--L1--\r\n")
	return []byte(sb.String())
}

func BenchmarkParse(b *testing.B) {
	data := benchMessage(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseSmall(b *testing.B) {
	data, _ := os.ReadFile("testdata/uw4-mixed-attachment.eml")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalPart(b *testing.B) {
	data, _ := os.ReadFile("testdata/groups-and-routes.eml")
	p, _ := Parse(bytes.NewReader(data), int64(len(data)))
	enc, _ := p.MarshalBinary()
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := UnmarshalPart(enc); err != nil {
			b.Fatal(err)
		}
	}
}
