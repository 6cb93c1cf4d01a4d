package imapbackend

import (
	"bytes"
	"encoding/binary"
	"slices"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/message"
)

// The header cache keeps, per message, the raw fields of the header names
// SEARCH asked about (RFC 3501 §6.4.4 HEADER, FROM, TO, CC, BCC, SUBJECT),
// in the store's second cache (mailstore.HeaderCacher), so that a later
// SEARCH on them opens no message file: Dovecot answers such searches
// from its dovecot.index.cache the same way. An entry is filled on first
// need and says which names it covers, including names the message does
// not have (their absence is what most HEADER searches find). Fields are
// kept byte for byte, as the file has them, and matched by the very code
// that matches the file's header, so both give the same results.
//
// Layout: hdrCacheVersion, a uvarint count of names, each name as a uvarint
// length and its bytes (ASCII lower case), then the fields of those names
// as they appear in the header, in order, each ending with a line end.

// hdrCacheVersion is the first byte of an entry; bump it when the layout
// or the meaning changes: an entry of another version is read again from
// the file and replaced, never misread.
const hdrCacheVersion = 1

// Bounds of one entry: names past maxHdrNames are not covered, nor a name
// whose fields would take the entry past maxHdrBytes (a huge To: list), so
// a search on those reads the file as before.
const (
	maxHdrNames = 16
	maxHdrBytes = 8 << 10
)

// defaultHdrNames are covered by every entry written: the fields of
// SEARCH's own header keys, so that the first SEARCH SUBJECT also makes
// the next SEARCH FROM fast.
var defaultHdrNames = []string{"subject", "from", "to", "cc", "bcc"}

// hdrEntry is a decoded header cache entry.
type hdrEntry struct {
	data  []byte   // the encoding, for comparison with a rebuilt entry
	names []string // covered names, ASCII lower case
	hdr   message.Header
}

// covers reports whether the entry answers for the field name key, in
// ASCII lower case.
func (e *hdrEntry) covers(key string) bool {
	return e != nil && slices.Contains(e.names, key)
}

// decodeHdrEntry decodes an entry; ok is false for another version or a
// damaged encoding.
func decodeHdrEntry(data []byte) (e *hdrEntry, ok bool) {
	if len(data) == 0 || data[0] != hdrCacheVersion {
		return nil, false
	}
	i := 1
	n, k := binary.Uvarint(data[i:])
	if k <= 0 || n > maxHdrNames {
		return nil, false
	}
	i += k
	type span struct{ from, to int }
	var spans [maxHdrNames]span
	for j := range n {
		l, k := binary.Uvarint(data[i:])
		if k <= 0 || l > uint64(len(data)-i-k) {
			return nil, false
		}
		i += k
		spans[j] = span{i, i + int(l)}
		i += int(l)
	}
	// One string for all the names: an entry is decoded per message per
	// SEARCH.
	s := string(data[:i])
	e = &hdrEntry{data: data, names: make([]string, n)}
	for j := range n {
		e.names[j] = s[spans[j].from:spans[j].to]
	}
	e.hdr = message.ParseHeader(data[i:])
	return e, true
}

// buildHdrEntry makes the entry of header h covering want, then the
// default names, then the names old covered, within the bounds. Fields
// keep their order in the header.
func buildHdrEntry(h *message.Header, want []string, old *hdrEntry) *hdrEntry {
	fields := h.Fields()
	keys := make([]string, len(fields))
	sizes := map[string]int{}
	for i, f := range fields {
		keys[i] = asciiLower(f.Name)
		sizes[keys[i]] += len(f.Raw) + 2 // room for a missing line end
	}
	var names []string
	total := 0
	add := func(key string) {
		// A nameless line has the name "", which only the file's header
		// answers for exactly.
		if key == "" || len(names) >= maxHdrNames || slices.Contains(names, key) || total+sizes[key] > maxHdrBytes {
			return
		}
		names = append(names, key)
		total += sizes[key]
	}
	for _, k := range want {
		add(k)
	}
	for _, k := range defaultHdrNames {
		add(k)
	}
	if old != nil {
		for _, k := range old.names {
			add(k)
		}
	}
	data := []byte{hdrCacheVersion}
	data = binary.AppendUvarint(data, uint64(len(names)))
	for _, k := range names {
		data = binary.AppendUvarint(data, uint64(len(k)))
		data = append(data, k...)
	}
	start := len(data)
	for i, f := range fields {
		if !slices.Contains(names, keys[i]) {
			continue
		}
		data = append(data, f.Raw...)
		if data[len(data)-1] != '\n' {
			data = append(data, '\r', '\n')
		}
	}
	return &hdrEntry{data: data, names: names, hdr: message.ParseHeader(data[start:])}
}

// same reports whether e and f are the same entry.
func (e *hdrEntry) same(f *hdrEntry) bool {
	return e != nil && f != nil && bytes.Equal(e.data, f.data)
}

// headerKeys returns the field names the header keys of c look at (in Not
// and Or too), in ASCII lower case without duplicates; nil for none.
func headerKeys(c *imap.SearchCriteria) []string {
	var keys []string
	var walk func(c *imap.SearchCriteria)
	walk = func(c *imap.SearchCriteria) {
		for _, hf := range c.Header {
			if k := asciiLower(hf.Key); !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		for i := range c.Not {
			walk(&c.Not[i])
		}
		for i := range c.Or {
			walk(&c.Or[i][0])
			walk(&c.Or[i][1])
		}
	}
	walk(c)
	return keys
}

// asciiLower lowers ASCII letters only: header names are matched
// ASCII-case-insensitively (message.Header), and so are the cached ones.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
