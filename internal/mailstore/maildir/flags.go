package maildir

import (
	"slices"
	"strings"

	"github.com/postern/postern/internal/mailstore"
)

// System flag bits of the messages.sysflags column.
const (
	bitSeen = 1 << iota
	bitAnswered
	bitFlagged
	bitDeleted
	bitDraft
)

var flagBits = []struct {
	flag string
	bit  int64
}{
	{mailstore.FlagAnswered, bitAnswered},
	{mailstore.FlagDeleted, bitDeleted},
	{mailstore.FlagDraft, bitDraft},
	{mailstore.FlagFlagged, bitFlagged},
	{mailstore.FlagSeen, bitSeen},
}

// splitFlags turns normalized flags into the index encoding: a bit mask of
// system flags and the other flags (keywords) joined by spaces, sorted.
func splitFlags(flags []string) (sys int64, keywords string) {
	var kw []string
	for _, f := range flags {
		found := false
		for _, fb := range flagBits {
			if f == fb.flag {
				sys |= fb.bit
				found = true
				break
			}
		}
		if !found {
			kw = append(kw, f)
		}
	}
	return sys, strings.Join(kw, " ")
}

// sysOnly caches the flag lists of messages without keywords, the common
// case, so that loading a large mailbox allocates one slice per distinct
// combination instead of one per message. The slices are shared: full
// capacity, so an append by the caller copies, and never written to.
var sysOnly = func() [32][]string {
	var out [32][]string
	for mask := range out {
		out[mask] = buildFlags(int64(mask), "")
	}
	return out
}()

// joinFlags is the inverse of splitFlags: sorted flags.
func joinFlags(sys int64, keywords string) []string {
	if keywords == "" && sys >= 0 && sys < 32 {
		return sysOnly[sys]
	}
	return buildFlags(sys, keywords)
}

func buildFlags(sys int64, keywords string) []string {
	out := []string{}
	if keywords != "" {
		out = strings.Split(keywords, " ")
	}
	for _, fb := range flagBits {
		if sys&fb.bit != 0 {
			out = append(out, fb.flag)
		}
	}
	slices.Sort(out)
	return slices.Clip(out)
}

// forwarded is the keyword Maildir's P (passed) letter stands for.
const forwarded = "$Forwarded"

// infoFor returns the Maildir info suffix (":2," and the flag letters in
// ASCII order, cr.yp.to/proto/maildir.html) for the flags; kwIndex gives a
// keyword's letter index (0 for 'a'), or -1 when it has none.
func infoFor(sys int64, keywords string, kwIndex func(string) int) string {
	var b []byte
	b = append(b, ":2,"...)
	if sys&bitDraft != 0 {
		b = append(b, 'D')
	}
	if sys&bitFlagged != 0 {
		b = append(b, 'F')
	}
	var lower []byte
	hasP := false
	if keywords != "" {
		for _, k := range strings.Split(keywords, " ") {
			if k == forwarded {
				hasP = true
				continue
			}
			if i := kwIndex(k); i >= 0 && i < 26 {
				lower = append(lower, byte('a'+i))
			}
		}
	}
	if hasP {
		b = append(b, 'P')
	}
	if sys&bitAnswered != 0 {
		b = append(b, 'R')
	}
	if sys&bitSeen != 0 {
		b = append(b, 'S')
	}
	if sys&bitDeleted != 0 {
		b = append(b, 'T')
	}
	slices.Sort(lower)
	return string(append(b, lower...))
}

// parseInfo reads the flags of a Maildir info suffix (":2,FS"); kwName gives
// the keyword of a letter index, or "" for an unknown one. Experimental
// ":1," infos and unknown letters carry no flags.
func parseInfo(info string, kwName func(int) string) (sys int64, kws []string) {
	letters, ok := strings.CutPrefix(info, ":2,")
	if !ok {
		return 0, nil
	}
	for i := 0; i < len(letters); i++ {
		switch c := letters[i]; {
		case c == 'D':
			sys |= bitDraft
		case c == 'F':
			sys |= bitFlagged
		case c == 'P':
			kws = append(kws, forwarded)
		case c == 'R':
			sys |= bitAnswered
		case c == 'S':
			sys |= bitSeen
		case c == 'T':
			sys |= bitDeleted
		case c >= 'a' && c <= 'z':
			if k := kwName(int(c - 'a')); k != "" {
				kws = append(kws, k)
			}
		}
	}
	return sys, kws
}

// splitName splits a file name in cur/ into its base and its info suffix.
func splitName(name string) (base, info string) {
	if i := strings.IndexByte(name, ':'); i >= 0 {
		return name[:i], name[i:]
	}
	return name, ""
}
