package sortthread

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/postern/postern/internal/message"
)

// KeyName is a sort-key of RFC 5256 §5 or RFC 5957 §4. Its values are the
// protocol atoms, upper-case, so the command parser can convert an atom
// with KeyName(strings.ToUpper(atom)) and check it with Valid.
type KeyName string

// The sort keys (RFC 5256 §3 "SORT Command"; RFC 5957 §4).
const (
	KeyArrival     KeyName = "ARRIVAL"     // internal date and time
	KeyCc          KeyName = "CC"          // addr-mailbox of the first Cc address
	KeyDate        KeyName = "DATE"        // sent date (RFC 5256 §2.2)
	KeyFrom        KeyName = "FROM"        // addr-mailbox of the first From address
	KeySize        KeyName = "SIZE"        // RFC822.SIZE
	KeySubject     KeyName = "SUBJECT"     // base subject (RFC 5256 §2.1)
	KeyTo          KeyName = "TO"          // addr-mailbox of the first To address
	KeyDisplayFrom KeyName = "DISPLAYFROM" // display name of the first From address (RFC 5957)
	KeyDisplayTo   KeyName = "DISPLAYTO"   // display name of the first To address (RFC 5957)
)

// Valid reports whether k is one of the keys above. DISPLAYFROM and
// DISPLAYTO are valid only when SORT=DISPLAY is advertised; that is the
// caller's policy.
func (k KeyName) Valid() bool {
	switch k {
	case KeyArrival, KeyCc, KeyDate, KeyFrom, KeySize, KeySubject, KeyTo, KeyDisplayFrom, KeyDisplayTo:
		return true
	}
	return false
}

// Key is one sort-criterion of RFC 5256 §5: a key, optionally preceded by
// REVERSE. REVERSE reverses only this key, never the implicit sequence
// number key (RFC 5256 §3, REVERSE).
type Key struct {
	Name    KeyName
	Reverse bool
}

// Sort returns msgs sorted by keys as the SORT command does (RFC 5256 §3):
// in priority order of the keys, ascending unless reversed, messages equal
// under every key in sequence number order (the implicit last key), so the
// result is deterministic. Strings compare by Collate, and an absent field
// is the empty string, which sorts first. A key that is not Valid compares
// all messages equal. msgs is not modified.
func Sort(msgs []Message, keys []Key) []Message {
	items := make([]sortItem, len(msgs))
	for i := range msgs {
		items[i] = newSortItem(&msgs[i], keys)
		items[i].pos = i
	}
	// The keys, seq and input position make a total order, so an
	// unstable sort is deterministic (and faster than a stable one).
	slices.SortFunc(items, func(a, b sortItem) int {
		for k, key := range keys {
			c := compareKey(key.Name, k, &a, &b)
			if key.Reverse {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		if c := cmp.Compare(a.m.Seq, b.m.Seq); c != 0 {
			return c
		}
		return cmp.Compare(a.pos, b.pos)
	})
	out := make([]Message, len(items))
	for i := range items {
		out[i] = *items[i].m
	}
	return out
}

// sortItem is a message with its collation keys computed once.
type sortItem struct {
	m    *Message
	sent time.Time // m.sentDate()
	pos  int       // index in the input: the tie-breaker for equal Seq
	str  []string  // Collate keys, by index in keys; "" for non-string keys
}

func newSortItem(m *Message, keys []Key) sortItem {
	it := sortItem{m: m, sent: m.sentDate(), str: make([]string, len(keys))}
	for k, key := range keys {
		switch key.Name {
		case KeyCc:
			it.str[k] = Collate(addrMailbox(m.Cc))
		case KeyFrom:
			it.str[k] = Collate(addrMailbox(m.From))
		case KeyTo:
			it.str[k] = Collate(addrMailbox(m.To))
		case KeySubject:
			it.str[k] = Collate(BaseSubject(m.Subject))
		case KeyDisplayFrom:
			it.str[k] = Collate(DisplayAddress(m.From))
		case KeyDisplayTo:
			it.str[k] = Collate(DisplayAddress(m.To))
		}
	}
	return it
}

func compareKey(name KeyName, k int, a, b *sortItem) int {
	switch name {
	case KeyArrival:
		return a.m.InternalDate.Compare(b.m.InternalDate)
	case KeyDate:
		return a.sent.Compare(b.sent)
	case KeySize:
		return cmp.Compare(a.m.Size, b.m.Size)
	case KeyCc, KeyFrom, KeyTo, KeySubject, KeyDisplayFrom, KeyDisplayTo:
		return strings.Compare(a.str[k], b.str[k])
	}
	return 0
}

// addrMailbox is the [IMAP] addr-mailbox of the first address of a list
// (RFC 5256 §3 CC, FROM, TO), "" when there is none. The first address is
// the first ENVELOPE element, so for a group it is the group name, the
// addr-mailbox RFC 3501 §7.4.2 gives a group start.
func addrMailbox(as []message.Address) string {
	if len(as) == 0 {
		return ""
	}
	return as[0].Mailbox
}

// DisplayAddress is the display sort value of the first address of a list
// (RFC 5957 §3): its display name with encoded words decoded, if that is
// not empty; otherwise addr-mailbox "@" addr-host when both are present;
// otherwise addr-mailbox; otherwise "". Not case-mapped: compare with
// Collate.
func DisplayAddress(as []message.Address) string {
	if len(as) == 0 {
		return ""
	}
	a := as[0]
	if a.Name != "" {
		if name := message.DecodeHeader(a.Name); name != "" {
			return name
		}
	}
	if a.Mailbox != "" && a.Host != "" {
		return a.Mailbox + "@" + a.Host
	}
	return a.Mailbox
}
