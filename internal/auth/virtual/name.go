package virtual

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxUsernameLen is the longest user name accepted, in bytes.
const MaxUsernameLen = 255

// ErrBadUsername is returned (wrapped) by ValidUsername.
var ErrBadUsername = errors.New("virtual: bad user name")

// ValidUsername reports whether name may be used as a login name and inside
// a path: non-empty valid UTF-8 of at most MaxUsernameLen bytes, with no
// "/", no "..", no ":" (the file's separator), no control characters and no
// spaces, and not starting with "-" or ".".
func ValidUsername(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrBadUsername)
	case len(name) > MaxUsernameLen:
		return fmt.Errorf("%w: longer than %d bytes", ErrBadUsername, MaxUsernameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: not UTF-8", ErrBadUsername)
	case strings.Contains(name, ".."):
		return fmt.Errorf("%w: contains \"..\"", ErrBadUsername)
	case name[0] == '-' || name[0] == '.':
		return fmt.Errorf("%w: starts with %q", ErrBadUsername, name[0])
	case strings.Count(name, "@") > 1:
		return fmt.Errorf("%w: more than one \"@\"", ErrBadUsername)
	case strings.HasPrefix(name, "@") || strings.HasSuffix(name, "@"):
		// %n or %d would expand to nothing: "@" would get the mail
		// root of a whole domain, "x@" would share "x"'s directory.
		return fmt.Errorf("%w: empty local part or domain", ErrBadUsername)
	}
	for _, r := range name {
		if r == '/' || r == ':' || r == '\\' || unicode.IsControl(r) || unicode.IsSpace(r) {
			return fmt.Errorf("%w: contains %q", ErrBadUsername, r)
		}
	}
	return nil
}

// expandTemplate expands Dovecot-style variables in tmpl: %u the user name,
// %n its local part (before "@"), %d its domain (after "@", or ""), %h the
// home directory and %% a percent sign. Other sequences are an error.
func expandTemplate(tmpl, user, home string) (string, error) {
	if !strings.Contains(tmpl, "%") {
		return tmpl, nil
	}
	local, domain, _ := strings.Cut(user, "@")
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		if tmpl[i] != '%' {
			b.WriteByte(tmpl[i])
			continue
		}
		if i+1 == len(tmpl) {
			return "", fmt.Errorf("virtual: template %q ends in %%", tmpl)
		}
		i++
		switch tmpl[i] {
		case 'u':
			b.WriteString(user)
		case 'n':
			b.WriteString(local)
		case 'd':
			b.WriteString(domain)
		case 'h':
			b.WriteString(home)
		case '%':
			b.WriteByte('%')
		default:
			return "", fmt.Errorf("virtual: template %q: unknown variable %%%c (known: %%u %%n %%d %%h %%%%)", tmpl, tmpl[i])
		}
	}
	return b.String(), nil
}

// mailLocationPath extracts the directory from a Dovecot mail location
// ("maildir:~/Maildir:LAYOUT=fs" -> "~/Maildir"): a leading format name
// (lower-case letters then ":") is dropped, as are ":"-separated options.
func mailLocationPath(loc string) string {
	if format, rest, ok := strings.Cut(loc, ":"); ok && format != "" && strings.Trim(format, "abcdefghijklmnopqrstuvwxyz") == "" {
		loc = rest
	}
	loc, _, _ = strings.Cut(loc, ":")
	return loc
}

// expandHome replaces a leading "~" with home. It reports false when the
// path needs a home and there is none.
func expandHome(p, home string) (string, bool) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, true
	}
	if home == "" {
		return "", false
	}
	return home + p[1:], true
}

// mailRoot works out where a user's mail lives: the "mail" extra field
// (format prefix and options dropped, "~" and template variables
// expanded), else home/Maildir, else the template, else "".
func mailRoot(user, home, mailExtra, template string) (string, error) {
	if mailExtra != "" {
		p, err := expandTemplate(mailLocationPath(mailExtra), user, home)
		if err != nil {
			return "", err
		}
		if p, ok := expandHome(p, home); ok && p != "" {
			return filepath.Clean(p), nil
		}
		// "~" without a home: fall through to the template.
	}
	if home != "" {
		return filepath.Join(home, "Maildir"), nil
	}
	if template != "" {
		p, err := expandTemplate(template, user, home)
		if err != nil {
			return "", err
		}
		return filepath.Clean(p), nil
	}
	return "", nil
}
