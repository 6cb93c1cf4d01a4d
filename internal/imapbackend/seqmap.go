package imapbackend

import (
	"slices"
	"sync"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
)

// uidRange is an inclusive range of UIDs.
type uidRange struct{ lo, hi uint32 }

// selected is the state of the selected mailbox: the session's own snapshot
// of which messages exist (RFC 3501 §2.3.1.2: sequence numbers change only
// when the client is told), kept in step with the store by poll.
type selected struct {
	mb       mailstore.Mailbox
	name     string
	readOnly bool

	// uids holds the UID of each sequence number (seq n is uids[n-1]),
	// ascending; flags and modSeq are parallel: the flags last reported to
	// the client and the MODSEQ they were read at.
	uids   []uint32
	flags  [][]string
	modSeq []uint64

	// gone holds UIDs expunged by others that the client has not been told
	// about yet: they keep their sequence numbers until an EXPUNGE may be
	// sent (RFC 3501 §7.4.1).
	gone map[uint32]struct{}
	// cursor is the HIGHESTMODSEQ up to which changes are known.
	cursor uint64
	// told is the HIGHESTMODSEQ up to which the client has been told
	// every change: the cursor when no expunge is pending (gone is
	// empty), else the last such value, so that it stays below any
	// expunge not yet reported (RFC 7162 §3.2).
	told uint64
	// recent holds the UID ranges this session claimed as \Recent.
	recent []uidRange
	// claimedThrough is the highest UID this session's APPEND claimed
	// as \Recent (mailstore.SessionAppend): every message up to it is
	// claimed by some session.
	claimedThrough uint32

	uidValidity uint32
	// hdrs is the process's header cache in memory, hdrKey the mailbox's
	// name there (hdrMemKey).
	hdrs   *hdrMem
	hdrKey string
	// keywords are the keywords announced in FLAGS; keywordsDirty says a
	// new one was stored and FLAGS must be sent again.
	keywords map[string]struct{}
	// pendingCache holds structures parsed by the current FETCH or SEARCH
	// batch, stored together by flushCache.
	pendingCache []mailstore.CacheEntry
	// pendingHdrs holds the header cache entries made by the current
	// SEARCH, stored together by flushHdrCache.
	pendingHdrs []mailstore.CacheEntry
	// cacheMu guards pendingCache and pendingHdrs while the workers of a
	// parallel SEARCH run (searchpar.go).
	cacheMu sync.Mutex
	// binaryCache holds decoded section sizes for BINARY (binary.go).
	binaryCache   map[binaryKey]binaryInfo
	keywordsDirty bool

	// saved is the SEARCHRES search result variable (RFC 5182): UIDs,
	// ascending. A new selected starts it empty, as SELECT must.
	saved []uint32
}

// index returns the position of uid in the sequence map.
func (sel *selected) index(uid uint32) (int, bool) {
	return slices.BinarySearch(sel.uids, uid)
}

// lastUID returns the highest UID in the map, 0 when empty.
func (sel *selected) lastUID() uint32 {
	if len(sel.uids) == 0 {
		return 0
	}
	return sel.uids[len(sel.uids)-1]
}

// isRecent reports whether this session sees uid as \Recent.
func (sel *selected) isRecent(uid uint32) bool {
	for _, r := range sel.recent {
		if uid >= r.lo && uid <= r.hi {
			return true
		}
	}
	return false
}

// numRecent counts the \Recent messages in the map.
func (sel *selected) numRecent() uint32 {
	var n int
	for _, r := range sel.recent {
		lo, _ := slices.BinarySearch(sel.uids, r.lo)
		hi, found := slices.BinarySearch(sel.uids, r.hi)
		if found {
			hi++
		}
		if hi > lo {
			n += hi - lo
		}
	}
	return uint32(n)
}

// addRecent records a claimed range, ignoring empty ones.
func (sel *selected) addRecent(lo, hi uint32) {
	if lo == 0 || lo > hi {
		return
	}
	if n := len(sel.recent); n > 0 && sel.recent[n-1].hi+1 == lo {
		sel.recent[n-1].hi = hi // one range for a run of APPENDs
		return
	}
	sel.recent = append(sel.recent, uidRange{lo, hi})
}

// resolve turns a sequence set or UID set into ascending, unique indices
// into the map. A sequence number beyond the mailbox is an error (RFC 9051
// §6.4.5 lets the server refuse it); a UID set matches what exists, so an
// empty result is no error (RFC 3501 §6.4.8).
func (sel *selected) resolve(kind imap.NumKind, set imap.NumSet) ([]int, error) {
	if set.SearchRes {
		return sel.resolveSaved(), nil
	}
	n := len(sel.uids)
	var out []int
	for _, r := range set.Ranges {
		if kind == imap.NumKindSeq {
			lo, hi := resolveRange(r, uint32(n))
			if lo < 1 || int64(hi) > int64(n) {
				return nil, errBadSet
			}
			for i := int(lo) - 1; i < int(hi); i++ {
				out = append(out, i)
			}
			continue
		}
		lo, hi := resolveRange(r, sel.lastUID())
		i, _ := slices.BinarySearch(sel.uids, lo)
		for ; i < n && sel.uids[i] <= hi; i++ {
			out = append(out, i)
		}
	}
	if len(set.Ranges) > 1 {
		slices.Sort(out)
		out = slices.Compact(out)
	}
	return out, nil
}

// resolveRange returns a range with "*" replaced by max and its ends ordered.
func resolveRange(r imap.NumRange, max uint32) (lo, hi uint32) {
	rs := imap.NumSet{Ranges: []imap.NumRange{r}}.Resolved(max)
	return rs[0].Start, rs[0].Stop
}

// removeIndices deletes the messages at the given ascending indices and
// calls fn with the sequence number each had at the moment of its removal,
// lowest first, as the EXPUNGE responses must say them (RFC 3501 §7.4.1:
// each EXPUNGE decrements the numbers of the messages after it).
func (sel *selected) removeIndices(idx []int, fn func(seq uint32) error) error {
	var err error
	for k, i := range idx {
		delete(sel.gone, sel.uids[i])
		if err == nil {
			err = fn(uint32(i + 1 - k))
		}
	}
	if len(idx) == 0 {
		return err
	}
	j, next := idx[0], 0
	for i := idx[0]; i < len(sel.uids); i++ {
		if next < len(idx) && idx[next] == i {
			next++
			continue
		}
		sel.uids[j], sel.flags[j], sel.modSeq[j] = sel.uids[i], sel.flags[i], sel.modSeq[i]
		j++
	}
	clear(sel.flags[j:])
	sel.uids, sel.flags, sel.modSeq = sel.uids[:j], sel.flags[:j], sel.modSeq[:j]
	return err
}

// removeUIDs removes the given UIDs (any order) that are in the map.
func (sel *selected) removeUIDs(uids []uint32, fn func(seq uint32) error) error {
	idx := make([]int, 0, len(uids))
	for _, u := range uids {
		if i, ok := sel.index(u); ok {
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	return sel.removeIndices(slices.Compact(idx), fn)
}

// setFlags records a message's new flags read at modSeq, and notes new
// keywords for the next FLAGS response.
func (sel *selected) setFlags(i int, flags []string, modSeq uint64) {
	sel.flags[i] = flags
	if modSeq > sel.modSeq[i] {
		sel.modSeq[i] = modSeq
	}
	sel.noteKeywords(flags)
}

func (sel *selected) noteKeywords(flags []string) {
	for _, f := range flags {
		if isKeyword(f) {
			if _, ok := sel.keywords[f]; !ok {
				sel.keywords[f] = struct{}{}
				sel.keywordsDirty = true
			}
		}
	}
}

func isKeyword(f string) bool { return f != "" && f[0] != '\\' }

// mailboxFlags returns the FLAGS and PERMANENTFLAGS lists (RFC 3501
// §7.2.6, §7.1): the system flags, then the keywords in use, sorted.
func (sel *selected) mailboxFlags() (flags, permanent []imap.Flag) {
	kws := make([]string, 0, len(sel.keywords))
	for k := range sel.keywords {
		kws = append(kws, k)
	}
	slices.Sort(kws)
	flags = append(flags, imap.SystemFlags...)
	for _, k := range kws {
		flags = append(flags, imap.Flag(k))
	}
	if sel.readOnly {
		// RFC 3501 §6.3.2: no flag can be changed permanently.
		return flags, []imap.Flag{}
	}
	permanent = append(slices.Clip(flags), imap.FlagWildcard)
	return flags, permanent
}

// messageFlags returns the FLAGS of the message at index i as the client
// sees them: \Recent first, then the system flags, then keywords, as UW
// imapd writes them.
func (sel *selected) messageFlags(i int) []imap.Flag {
	return sel.appendMessageFlags(make([]imap.Flag, 0, len(sel.flags[i])+1), i)
}

// appendMessageFlags is messageFlags appended to out (a FETCH of 100,000
// messages reuses one slice: issue 7).
func (sel *selected) appendMessageFlags(out []imap.Flag, i int) []imap.Flag {
	stored := sel.flags[i]
	if sel.isRecent(sel.uids[i]) {
		out = append(out, imap.FlagRecent)
	}
	for _, f := range stored {
		if !isKeyword(f) {
			out = append(out, imap.Flag(f))
		}
	}
	for _, f := range stored {
		if isKeyword(f) {
			out = append(out, imap.Flag(f))
		}
	}
	return out
}

func hasFlag(flags []string, f string) bool { return slices.Contains(flags, f) }
