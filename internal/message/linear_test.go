package message

import (
	"bytes"
	"strings"
	"testing"
)

// TestLinearInputs runs 1 MiB inputs that would take quadratic time in a
// naive parser (hours at this size); a regression shows as a test timeout,
// not as a timed assertion.
func TestLinearInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("slow inputs")
	}
	const n = 1 << 20
	inputs := map[string]func(){
		"DecodeHeader spaces": func() { DecodeHeader("=?utf-8?q?a?=" + strings.Repeat(" ", n) + "x") },
		"DecodeHeader opens":  func() { DecodeHeader(strings.Repeat("=?a?q?", n/6)) },
		"ParseAddressList":    func() { ParseAddressList(strings.Repeat("a,<b@c>:;(d)", n/12)) },
		"ParseDate":           func() { ParseDate(strings.Repeat("1 ", n/2)) },
		"Parse many headers": func() {
			m := strings.Repeat("X: y\r\n", n/6) + "\r\n"
			Parse(strings.NewReader(m), int64(len(m)))
		},
		"Parse long line": func() {
			m := "Subject: " + strings.Repeat("x", n) + "\r\n\r\n" + strings.Repeat("y", n)
			Parse(strings.NewReader(m), int64(len(m)))
		},
		"Parse many parts": func() {
			var b bytes.Buffer
			b.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n")
			for b.Len() < n {
				b.WriteString("--b\r\n\r\nx\r\n")
			}
			Parse(bytes.NewReader(b.Bytes()), int64(b.Len()))
		},
	}
	for name, fn := range inputs {
		t.Run(name, func(t *testing.T) { fn() })
	}
}
