package mbox

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/postern/postern/internal/mailstore"
)

// UW's unix driver keeps IMAP state in header fields of the messages
// (uw-imap-docs/formats.txt; uw-observed.md §4.5), all hidden from clients:
//
//	X-IMAPbase: UIDVALIDITY UIDLAST [KEYWORD...]   first message, when no pseudo message
//	X-IMAP: UIDVALIDITY %010d-UIDLAST [KEYWORD...] the pseudo message
//	Status: [R][O]                                 \Seen, not \Recent
//	X-Status: [D][F][A][T]                         \Deleted \Flagged \Answered \Draft
//	X-Keywords: [KEYWORD...]                       space-padded for rewrites in place
//	X-UID: UID

// hiddenFields are the fields UW hides from clients (lower case).
var hiddenFields = map[string]bool{
	"status": true, "x-status": true, "x-keywords": true, "x-uid": true, "x-imap": true, "x-imapbase": true,
}

// statusPad is how many characters of flag letters and keyword names UW's
// status block leaves room for, beyond which X-Keywords is no longer
// padded: 19 in a message's block, 24 when it also carries X-IMAPbase (the
// keywords of X-IMAPbase count too). Measured on the UW samples in
// testdata: every block is 60 bytes with single-digit UIDs.
const (
	statusPad     = 19
	statusPadBase = 24
)

// folderData is what X-IMAP or X-IMAPbase holds.
type folderData struct {
	uidValidity uint32
	uidLast     uint32
	keywords    []string
}

// uwHeader is what a message header holds of UW's state, and where.
type uwHeader struct {
	hasUID    bool
	uid       uint32
	hasStatus bool // any of Status, X-Status, X-Keywords
	seen, old bool
	sys       []string // from X-Status
	keywords  []string
	base      *folderData // X-IMAPbase
	imap      *folderData // X-IMAP (the pseudo message)
	// visible is the header with the hidden fields removed.
	visible []byte
	// blockOff is where the trailing run of hidden fields starts in the
	// header (len(hdr) when the header does not end with one).
	blockOff int
	crlf     bool // the header's lines end in CRLF
}

// scanHeader splits a raw header (the field lines, without the blank line
// that ends them) into UW's state and the visible rest.
func scanHeader(hdr []byte) uwHeader {
	var h uwHeader
	h.blockOff = len(hdr)
	h.crlf = bytes.Contains(firstLine(hdr), []byte("\r\n"))
	hidden := false
	trailingStart := -1
	vis := make([]byte, 0, len(hdr))
	for off := 0; off < len(hdr); {
		line := firstLine(hdr[off:])
		cont := len(line) > 0 && (line[0] == ' ' || line[0] == '\t')
		if !cont {
			name, value, ok := fieldOf(line)
			hidden = ok && hiddenFields[strings.ToLower(name)]
			if hidden {
				h.field(strings.ToLower(name), value)
			}
		}
		if hidden {
			if trailingStart < 0 {
				trailingStart = off
			}
		} else {
			trailingStart = -1
			vis = append(vis, line...)
		}
		off += len(line)
	}
	if trailingStart >= 0 {
		h.blockOff = trailingStart
	}
	h.visible = vis
	return h
}

// firstLine returns b up to and including its first LF (all of b if none).
func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i+1]
	}
	return b
}

// fieldOf splits a header line into its name and value.
func fieldOf(line []byte) (string, string, bool) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return "", "", false
	}
	name := string(line[:i])
	if strings.ContainsAny(name, " \t") {
		return "", "", false
	}
	return name, strings.TrimSpace(string(line[i+1:])), true
}

func (h *uwHeader) field(name, value string) {
	switch name {
	case "status":
		h.hasStatus = true
		h.seen = strings.ContainsRune(value, 'R')
		h.old = strings.ContainsRune(value, 'O')
	case "x-status":
		h.hasStatus = true
		h.sys = parseXStatus(value)
	case "x-keywords":
		h.hasStatus = true
		h.keywords = parseKeywords(value)
	case "x-uid":
		if n, err := strconv.ParseUint(value, 10, 32); err == nil && n > 0 {
			h.hasUID, h.uid = true, uint32(n)
		}
	case "x-imapbase":
		h.base = parseFolderData(value)
	case "x-imap":
		h.imap = parseFolderData(value)
	}
}

// parseXStatus maps X-Status letters to system flags.
func parseXStatus(v string) []string {
	var out []string
	for _, c := range v {
		switch c {
		case 'D':
			out = append(out, mailstore.FlagDeleted)
		case 'F':
			out = append(out, mailstore.FlagFlagged)
		case 'A':
			out = append(out, mailstore.FlagAnswered)
		case 'T':
			out = append(out, mailstore.FlagDraft)
		}
	}
	return out
}

// parseKeywords splits an X-Keywords value, dropping names that are not
// valid flags.
func parseKeywords(v string) []string {
	var out []string
	for _, k := range strings.Fields(v) {
		if validKeyword(k) && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// validKeyword reports whether k can be a keyword (an IMAP atom without
// the backslash of system flags).
func validKeyword(k string) bool {
	if k == "" || strings.HasPrefix(k, `\`) {
		return false
	}
	for _, c := range []byte(k) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"]`, c) >= 0 {
			return false
		}
	}
	return true
}

// parseFolderData parses "UIDVALIDITY UIDLAST [KEYWORD...]"; nil when the
// numbers are missing or zero UIDVALIDITY.
func parseFolderData(v string) *folderData {
	f := strings.Fields(v)
	if len(f) < 2 {
		return nil
	}
	uv, err1 := strconv.ParseUint(f[0], 10, 32)
	last, err2 := strconv.ParseUint(f[1], 10, 32)
	if err1 != nil || err2 != nil || uv == 0 {
		return nil
	}
	return &folderData{uidValidity: uint32(uv), uidLast: uint32(last), keywords: parseKeywords(strings.Join(f[2:], " "))}
}

// flagsOf returns the sorted mailstore flags of a header.
func (h *uwHeader) flags() []string {
	fl := slices.Clone(h.sys)
	if h.seen {
		fl = append(fl, mailstore.FlagSeen)
	}
	fl = append(fl, h.keywords...)
	slices.Sort(fl)
	return slices.Compact(fl)
}

// statusBlock is what renderBlock writes for one message.
type statusBlock struct {
	base  *folderData // X-IMAPbase, for the first message without a pseudo message
	flags []string    // mailstore flags
	old   bool        // not \Recent: "O"
	uid   uint32
	crlf  bool
	// order is the mailbox's keyword list: UW writes a message's keywords
	// in that order.
	order []string
}

// render returns the block; when size is larger than the natural size,
// X-Keywords is padded to make it exactly size bytes (a rewrite in place).
func (b statusBlock) render(size int) []byte {
	eol := "\n"
	if b.crlf {
		eol = "\r\n"
	}
	var st, xst, kw strings.Builder
	if slices.Contains(b.flags, mailstore.FlagSeen) {
		st.WriteByte('R')
	}
	if b.old {
		st.WriteByte('O')
	}
	for _, p := range []struct {
		flag string
		c    byte
	}{{mailstore.FlagDeleted, 'D'}, {mailstore.FlagFlagged, 'F'}, {mailstore.FlagAnswered, 'A'}, {mailstore.FlagDraft, 'T'}} {
		if slices.Contains(b.flags, p.flag) {
			xst.WriteByte(p.c)
		}
	}
	for _, k := range b.order {
		if slices.Contains(b.flags, k) {
			kw.WriteString(" " + k)
		}
	}
	for _, f := range b.flags {
		if !strings.HasPrefix(f, `\`) && !slices.Contains(b.order, f) {
			kw.WriteString(" " + f)
		}
	}
	var out bytes.Buffer
	budget := statusPad
	if b.base != nil {
		bkw := ""
		for _, k := range b.base.keywords {
			bkw += " " + k
		}
		fmt.Fprintf(&out, "X-IMAPbase: %d %d%s%s", b.base.uidValidity, b.base.uidLast, bkw, eol)
		budget = statusPadBase - len(bkw)
	}
	pad := budget - st.Len() - xst.Len() - kw.Len()
	fmt.Fprintf(&out, "Status: %s%sX-Status: %s%sX-Keywords:%s", st.String(), eol, xst.String(), eol, kw.String())
	uidLine := fmt.Sprintf("%sX-UID: %d%s", eol, b.uid, eol)
	if b.uid == 0 { // not numbered in the file yet (sessionlock.go)
		uidLine = eol
	}
	pad = max(pad, 0)
	if natural := out.Len() + pad + len(uidLine); size > natural {
		pad += size - natural
	}
	for range pad {
		out.WriteByte(' ')
	}
	out.WriteString(uidLine)
	return out.Bytes()
}

// pseudoSubject marks UW's pseudo message.
const pseudoSubject = "DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA"

// renderPseudo returns the pseudo message UW's CREATE writes (with its
// separator line and the blank line after it), as in
// testdata/saved-created-by-uw.mbox.
func renderPseudo(fd folderData, host string, now func() (string, string)) []byte {
	fromDate, date := now()
	kw := ""
	for _, k := range fd.keywords {
		kw += " " + k
	}
	return fmt.Appendf(nil, "From MAILER-DAEMON %s\nDate: %s\nFrom: Mail System Internal Data <MAILER-DAEMON@%s>\nSubject: %s\nMessage-ID: <%d@%s>\nX-IMAP: %d %010d%s\nStatus: RO\n\n%s\n",
		fromDate, date, host, pseudoSubject, fd.uidValidity, host, fd.uidValidity, fd.uidLast, kw, pseudoText)
}

const pseudoText = `This text is part of the internal format of your mail folder, and is not
a real message.  It is created automatically by the mail system software.
If deleted, important folder data will be lost, and it will be re-created
with the data reset to initial values.
`
