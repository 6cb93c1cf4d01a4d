package memstore

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/postern/postern/internal/mailstore"
)

// canonicalName checks a mailbox name against the rules of the mailstore
// contract and returns it with a leading INBOX component in upper case
// (RFC 3501 §5.1: INBOX is case-insensitive).
func canonicalName(name string) (string, error) {
	if name == "" || !utf8.ValidString(name) || strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("memstore: %q: %w", name, mailstore.ErrInvalidName)
	}
	parts := strings.Split(name, "/")
	for _, p := range parts {
		if p == "" || p == "." || p == ".." {
			return "", fmt.Errorf("memstore: %q: %w", name, mailstore.ErrInvalidName)
		}
	}
	if strings.EqualFold(parts[0], "INBOX") {
		parts[0] = "INBOX"
	}
	return strings.Join(parts, "/"), nil
}

// systemFlags maps the lower-case spelling of each RFC 3501 §2.3.2 system
// flag to its canonical one.
var systemFlags = map[string]string{
	`\seen`:     mailstore.FlagSeen,
	`\answered`: mailstore.FlagAnswered,
	`\flagged`:  mailstore.FlagFlagged,
	`\deleted`:  mailstore.FlagDeleted,
	`\draft`:    mailstore.FlagDraft,
}

// normFlags returns flags sorted, without duplicates and without \Recent,
// with system flags in their canonical spelling.
func normFlags(flags []string) ([]string, error) {
	out := make([]string, 0, len(flags))
	for _, f := range flags {
		if f == "" || strings.ContainsAny(f, " \t\r\n\x00") {
			return nil, fmt.Errorf("memstore: invalid flag %q", f)
		}
		if strings.HasPrefix(f, `\`) {
			lf := strings.ToLower(f)
			if lf == `\recent` {
				continue
			}
			if c, ok := systemFlags[lf]; ok {
				f = c
			}
		}
		out = append(out, f)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
