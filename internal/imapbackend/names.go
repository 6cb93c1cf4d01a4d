package imapbackend

import (
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/postern/postern/internal/imap"
)

// delim is the hierarchy delimiter of every mailbox name (RFC 3501 §5.1.1).
const delim = '/'

// canonicalName checks a mailbox name from the client (UTF-8, already
// decoded from modified UTF-7) and returns it with a leading INBOX component
// in upper case (RFC 3501 §5.1: INBOX is case-insensitive). The store checks
// names too; refusing here gives the client a reason.
func canonicalName(name string) (string, error) {
	if name == "" {
		return "", imap.NO(imap.CodeCannot, "Empty mailbox name")
	}
	if name[0] == delim {
		return "", imap.NO(imap.CodeCannot, "Mailbox names may not start with \"/\"")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return "", imap.NO(imap.CodeCannot, "Mailbox names may not contain control characters")
		}
	}
	parts := strings.Split(name, string(delim))
	for _, p := range parts {
		switch p {
		case "":
			return "", imap.NO(imap.CodeCannot, "Mailbox names may not have empty components")
		case ".", "..":
			return "", imap.NO(imap.CodeCannot, "Mailbox names may not have \".\" or \"..\" components")
		}
	}
	if strings.EqualFold(parts[0], "INBOX") && parts[0] != "INBOX" {
		return "INBOX" + name[len(parts[0]):], nil
	}
	return name, nil
}

// newName checks a name for a mailbox about to be made (CREATE, RENAME):
// one trailing delimiter is dropped (RFC 3501 §6.3.3) and wildcards are
// refused, since LIST could not name such a mailbox alone. Names that are
// not in Unicode Normalization Form C are refused (RFC 9051 §5.1, RFC 6855
// §3: servers MUST prohibit names that are not Net-Unicode): otherwise
// "Entwürfe" typed precomposed and decomposed would be two mailboxes that
// LIST shows alike. Refusing rather than normalizing spares SELECT the
// OLDNAME that RFC 9051 §6.3.2 requires of servers that normalize.
func newName(name string) (string, error) {
	if len(name) > 1 && name[len(name)-1] == delim {
		name = name[:len(name)-1]
	}
	if strings.ContainsAny(name, "*%") {
		return "", imap.NO(imap.CodeCannot, "Mailbox names may not contain \"*\" or \"%\"")
	}
	if !norm.NFC.IsNormalString(name) {
		return "", imap.NO(imap.CodeCannot, "Mailbox names must be in Unicode NFC")
	}
	return canonicalName(name)
}

// isInbox reports whether a canonical name is INBOX.
func isInbox(name string) bool { return name == "INBOX" }
