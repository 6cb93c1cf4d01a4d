package mailstore

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// CanonicalName checks a mailbox name against the rules of this contract
// (UTF-8, "/"-separated, no empty, "." or ".." component, no NUL) and
// returns it with a leading INBOX component in upper case (RFC 3501 §5.1:
// INBOX is case-insensitive). Every driver calls it first, so all agree on
// which names exist.
func CanonicalName(name string) (string, error) {
	if name == "" || !utf8.ValidString(name) || strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("mailstore: %q: %w", name, ErrInvalidName)
	}
	parts := strings.Split(name, "/")
	for _, p := range parts {
		if p == "" || p == "." || p == ".." {
			return "", fmt.Errorf("mailstore: %q: %w", name, ErrInvalidName)
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
	`\seen`:     FlagSeen,
	`\answered`: FlagAnswered,
	`\flagged`:  FlagFlagged,
	`\deleted`:  FlagDeleted,
	`\draft`:    FlagDraft,
}

// NormalizeFlags returns flags sorted, without duplicates and without
// \Recent (never stored), with system flags in their canonical spelling.
// A flag that is empty or holds white space or NUL is an error.
func NormalizeFlags(flags []string) ([]string, error) {
	out := make([]string, 0, len(flags))
	for _, f := range flags {
		if f == "" || strings.ContainsAny(f, " \t\r\n\x00") {
			return nil, fmt.Errorf("mailstore: invalid flag %q", f)
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

// ApplyFlags returns the flags op makes of cur (RFC 3501 §6.4.6), given
// flags already normalised; cur is not modified.
func ApplyFlags(cur []string, op FlagOp, flags []string) []string {
	switch op {
	case FlagsSet:
		return slices.Clone(flags)
	case FlagsAdd:
		out := append(slices.Clone(cur), flags...)
		slices.Sort(out)
		return slices.Compact(out)
	default:
		return slices.DeleteFunc(slices.Clone(cur), func(f string) bool { return slices.Contains(flags, f) })
	}
}
