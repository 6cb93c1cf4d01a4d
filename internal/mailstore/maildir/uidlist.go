package maildir

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/postern/postern/internal/mailstore"
)

// UIDListName is the per-folder file that lets Reindex rebuild the index
// keeping UIDs: a header line "postern-uidlist 1 UIDVALIDITY UIDNEXT
// SPECIAL-USE" ("-" for none), then one "UID BASE" line per message. New
// messages append a line; the file is rewritten (temporary file and rename)
// when a mailbox is created or renamed and when expunges have left it more
// than twice as long as needed. A later line for a base wins; UIDNEXT is the
// greater of the header's and one past the highest UID listed, so UIDs are
// never reused even when the header is stale.
const UIDListName = "postern-uidlist"

// KeywordsName is the per-folder file naming the keywords behind the
// lower-case flag letters: lines "INDEX NAME", 0 for 'a' (the shape of
// Dovecot's dovecot-keywords).
const KeywordsName = "postern-keywords"

// SubscriptionsName is the root file mirroring the subscriptions, one name
// per line, so they survive the loss of the index.
const SubscriptionsName = "postern-subscriptions"

type uidList struct {
	uidValidity uint32
	uidNext     uint32
	specialUse  string
	uids        map[string]uint32 // base -> UID
}

// readUIDList reads a folder's uidlist; ok is false when there is none or
// its header is unreadable.
func readUIDList(dir string) (ul uidList, ok bool) {
	data, err := os.ReadFile(filepath.Join(dir, UIDListName))
	if err != nil {
		return ul, false
	}
	return parseUIDList(data)
}

// uidListScanner returns a line scanner over a uidlist's content.
func uidListScanner(data []byte) *bufio.Scanner {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	return sc
}

// uidLines calls fn with each "UID BASE" line sc has left (after the
// header): two fields apart by white space, the first decimal digits.
// What is not one is skipped: a torn last line after a crash, and the
// last UID, which would leave no UIDNEXT to store. base is valid only
// during the call. Nothing is allocated per line: the lost-commit check
// reads a 100,000-line uidlist at a session's first look (lostcommits.go).
func uidLines(sc *bufio.Scanner, fn func(uid uint32, base []byte)) {
	for sc.Scan() {
		num, base, ok := twoFields(sc.Bytes())
		if !ok || len(num) == 0 {
			continue
		}
		var uid uint64
		for _, c := range num {
			if c < '0' || c > '9' || uid > 0xffffffff {
				uid = 0
				break
			}
			uid = uid*10 + uint64(c-'0')
		}
		if uid == 0 || uid >= 0xffffffff {
			continue
		}
		fn(uint32(uid), base)
	}
}

// twoFields splits line into its two fields separated by white space as
// bytes.Fields does, reporting false when it has another number of them.
func twoFields(line []byte) (a, b []byte, ok bool) {
	for _, c := range line {
		if c >= utf8.RuneSelf { // Unicode spaces: bytes.Fields decides
			f := bytes.Fields(line)
			if len(f) != 2 {
				return nil, nil, false
			}
			return f[0], f[1], true
		}
	}
	var f [2][]byte
	n := 0
	for i := 0; i < len(line); {
		if asciiSpace(line[i]) {
			i++
			continue
		}
		j := i
		for j < len(line) && !asciiSpace(line[j]) {
			j++
		}
		if n == 2 {
			return nil, nil, false
		}
		f[n] = line[i:j]
		n++
		i = j
	}
	return f[0], f[1], n == 2
}

// asciiSpace is unicode.IsSpace for ASCII octets.
func asciiSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// parseUIDList parses the content of a uidlist file.
func parseUIDList(data []byte) (ul uidList, ok bool) {
	sc := uidListScanner(data)
	if !sc.Scan() {
		return ul, false
	}
	h := strings.Fields(sc.Text())
	if len(h) < 4 || h[0] != "postern-uidlist" || h[1] != "1" {
		return ul, false
	}
	uv, err1 := strconv.ParseUint(h[2], 10, 32)
	next, err2 := strconv.ParseUint(h[3], 10, 32)
	if err1 != nil || err2 != nil || uv == 0 {
		return ul, false
	}
	ul = uidList{uidValidity: uint32(uv), uidNext: uint32(next), uids: map[string]uint32{}}
	if len(h) > 4 && h[4] != "-" {
		ul.specialUse = h[4]
	}
	uidLines(sc, func(uid uint32, base []byte) {
		ul.uids[string(base)] = uid
		if uid >= ul.uidNext {
			ul.uidNext = uid + 1
		}
	})
	if ul.uidNext == 0 {
		ul.uidNext = 1
	}
	return ul, true
}

type uidLine struct {
	uid  uint32
	base string
}

func uidListHeader(uidValidity, uidNext uint32, specialUse string) string {
	if specialUse == "" {
		specialUse = "-"
	}
	return fmt.Sprintf("postern-uidlist 1 %d %d %s\n", uidValidity, uidNext, specialUse)
}

// writeUIDList replaces a folder's uidlist.
func (s *Store) writeUIDList(dir string, uidValidity, uidNext uint32, specialUse string, lines []uidLine) error {
	var b bytes.Buffer
	b.WriteString(uidListHeader(uidValidity, uidNext, specialUse))
	for _, l := range lines {
		fmt.Fprintf(&b, "%d %s\n", l.uid, l.base)
	}
	return s.writeFileAtomic(filepath.Join(dir, UIDListName), b.Bytes())
}

// appendUIDList adds lines for new messages, durably. It runs inside the
// write transaction that allocates the UIDs, so appends of several
// processes are serialized with each other and with rewrites.
func (s *Store) appendUIDList(dir string, lines []uidLine) error {
	done, err := s.appendUIDListUnsynced(dir, lines)
	if err != nil {
		return err
	}
	return done(true)
}

// appendUIDListUnsynced is appendUIDList without the fsync: done(sync)
// closes the file, fsyncing it first when sync is set, and must be
// called once (Append runs it after its commit, outside the write lock).
func (s *Store) appendUIDListUnsynced(dir string, lines []uidLine) (done func(sync bool) error, err error) {
	if len(lines) == 0 {
		return func(bool) error { return nil }, nil // no file opened, none fsynced
	}
	var b bytes.Buffer
	for _, l := range lines {
		fmt.Fprintf(&b, "%d %s\n", l.uid, l.base)
	}
	f, err := openRaw(filepath.Join(dir, UIDListName), os.O_WRONLY|os.O_APPEND|os.O_CREATE, s.opts.FileMode)
	if err != nil {
		return nil, fmt.Errorf("maildir: uidlist: %w", err)
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		f.Close()
		return nil, fmt.Errorf("maildir: uidlist: %w", err)
	}
	return func(sync bool) error {
		var err error
		if sync && !s.opts.NoFsync {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("maildir: uidlist: %w", err)
		}
		return nil
	}, nil
}

// readKeywords reads a folder's keyword file: index -> name.
func readKeywords(dir string) map[int]string {
	data, err := os.ReadFile(filepath.Join(dir, KeywordsName))
	if err != nil {
		return nil
	}
	return parseKeywords(data)
}

// parseKeywords parses the keyword file: lines "INDEX NAME", index 0
// standing for the letter 'a'. Lines whose name is not an atom (RFC 3501
// §9 flag-keyword) are dropped, so a hand-edited file cannot put a control
// or a NUL into FLAGS responses.
func parseKeywords(data []byte) map[int]string {
	out := map[int]string{}
	for _, line := range strings.Split(string(data), "\n") {
		idx, name, ok := strings.Cut(line, " ")
		i, err := strconv.Atoi(idx)
		if !ok || err != nil || i < 0 || i >= 26 || !validKeyword(name) {
			continue
		}
		out[i] = name
	}
	return out
}

// validKeyword reports whether k is an atom and not a system flag.
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

// readSubscriptions reads the root's subscriptions mirror.
func (s *Store) readSubscriptions() []string {
	data, err := os.ReadFile(filepath.Join(s.root, SubscriptionsName))
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if _, err := mailstore.CanonicalName(line); err == nil {
			out = append(out, line)
		}
	}
	return out
}
