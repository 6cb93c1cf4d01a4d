package maildir

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/postern/postern/internal/mailstore"
)

// maxDirName is the longest file name Linux file systems accept.
const maxDirName = 255

// encodeComponent escapes one "/"-separated name component for a Maildir++
// folder name, where "." separates levels: "." and "%" become %2E and %25,
// and so do control bytes, so no folder name holds a separator, a NUL or a
// path element of its own.
func encodeComponent(c string) string {
	var b strings.Builder
	for i := 0; i < len(c); i++ {
		ch := c[i]
		if ch == '.' || ch == '%' || ch == '/' || ch < 0x20 || ch == 0x7f {
			fmt.Fprintf(&b, "%%%02X", ch)
		} else {
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// decodeComponent reverses encodeComponent; ok is false for a malformed escape.
func decodeComponent(c string) (string, bool) {
	if !strings.Contains(c, "%") {
		return c, true
	}
	var b strings.Builder
	for i := 0; i < len(c); i++ {
		if c[i] != '%' {
			b.WriteByte(c[i])
			continue
		}
		if i+2 >= len(c) {
			return "", false
		}
		var v byte
		if _, err := fmt.Sscanf(c[i+1:i+3], "%02X", &v); err != nil {
			return "", false
		}
		b.WriteByte(v)
		i += 2
	}
	return b.String(), true
}

// folderName returns the Maildir++ directory name (".a.b") of a canonical
// mailbox name other than INBOX.
func folderName(name string) (string, error) {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = encodeComponent(p)
	}
	d := "." + strings.Join(parts, ".")
	if len(d) > maxDirName {
		return "", fmt.Errorf("maildir: %q is too long: %w", name, mailstore.ErrInvalidName)
	}
	return d, nil
}

// nameOfFolder returns the mailbox name of a Maildir++ directory name, or ok
// false when the directory is not a mailbox we would have made.
func nameOfFolder(dir string) (string, bool) {
	rest, ok := strings.CutPrefix(dir, ".")
	if !ok || rest == "" || rest == "." {
		return "", false
	}
	parts := strings.Split(rest, ".")
	for i, p := range parts {
		d, ok := decodeComponent(p)
		if !ok {
			return "", false
		}
		parts[i] = d
	}
	name := strings.Join(parts, "/")
	cn, err := mailstore.CanonicalName(name)
	if err != nil || cn != name || cn == "INBOX" {
		return "", false
	}
	if f, err := folderName(cn); err != nil || f != dir {
		return "", false // not in our canonical encoding: leave it alone
	}
	return cn, true
}

// dirOf returns the directory of a canonical mailbox name, checked to be a
// direct child of root (or root itself for INBOX).
func (s *Store) dirOf(name string) (string, error) {
	if name == "INBOX" {
		return s.root, nil
	}
	f, err := folderName(name)
	if err != nil {
		return "", err
	}
	p := filepath.Join(s.root, f)
	if filepath.Dir(p) != s.root || !strings.HasPrefix(filepath.Base(p), ".") || filepath.Base(p) == ".." {
		return "", fmt.Errorf("maildir: %q escapes the mail root: %w", name, mailstore.ErrInvalidName)
	}
	return p, nil
}
