package imapserver

import (
	"strconv"

	"strings"

	"github.com/postern/postern/internal/imap"
)

// SessionSearchRes is implemented by sessions that keep the search result
// variable of SEARCHRES (RFC 5182 §2.1, RFC 9051 §6.4.4.1). Search saves
// the result when opts.ReturnSave is set (the subset opts.SavedSubset
// says), and every command that takes a sequence set resolves a set with
// SearchRes ("$") to the saved messages, by identity: the variable holds
// UIDs, so expunged messages drop out of it. Selecting, examining or
// leaving a mailbox empties it.
type SessionSearchRes interface {
	Session
	// ResetSearchResult empties the variable: a SEARCH with SAVE failed
	// with NO (RFC 5182 §2.1), before or inside the session.
	ResetSearchResult()
}

// returnOpts reads a RETURN option list (RFC 4731 §3.1
// search-return-opts, RFC 5267 §3 for SORT): "(" [opt *(SP opt)] ")". An
// empty list means ALL. Options the server does not know are refused with
// BAD (RFC 9051 §6.4.4); SAVE only when the session keeps results.
func (c *conn) returnOpts(opts *imap.SearchOptions) error {
	var bad error
	ok := c.dec.ExpectList(func() error {
		var name string
		if !c.dec.ExpectAtom(&name) {
			return c.decErr()
		}
		switch strings.ToUpper(name) {
		case "MIN":
			opts.ReturnMin = true
		case "MAX":
			opts.ReturnMax = true
		case "ALL":
			opts.ReturnAll = true
		case "COUNT":
			opts.ReturnCount = true
		case "SAVE":
			if _, ok := c.session.(SessionSearchRes); !ok {
				bad = imap.BAD("", "SAVE is not supported")
			}
			opts.ReturnSave = true
		default:
			bad = imap.BAD("", "Unknown RETURN option")
		}
		return nil
	})
	if !ok {
		return c.decErr()
	}
	if bad != nil {
		return bad
	}
	if !opts.Extended() {
		opts.ReturnAll = true
	}
	return nil
}

// searchFailed empties the search result variable after a SEARCH (or
// SORT) with SAVE fails with NO; a BAD leaves it alone (RFC 5182 §2.1).
func (c *conn) searchFailed(opts *imap.SearchOptions, err error) {
	if !opts.ReturnSave {
		return
	}
	if e, ok := imap.AsError(err); ok && e.Type == imap.StatusBAD {
		return
	}
	if s, ok := c.session.(SessionSearchRes); ok {
		s.ResetSearchResult()
	}
}

// writeESearch writes the ESEARCH response (RFC 4731 §3.1, RFC 9051
// §7.3.4): `* ESEARCH (TAG "t") [UID] [MIN n] [MAX n] [ALL set] [COUNT n]`,
// the items in Dovecot's order. MIN, MAX and ALL are left out when nothing
// matched; COUNT is always there when asked for. SAVE alone suppresses the
// response (RFC 9051 §6.4.4). nums are ascending for SEARCH; for SORT
// (sorted true) they are in sort order, MIN and MAX are the first and last
// in that order and ALL keeps the order (RFC 5267 §3.1).
//
// modSeq, when not zero, is the MODSEQ result option of a search with a
// MODSEQ key, returned as "MODSEQ n" (RFC 7162 §3.1.10): esearchModSeq
// picks it (RFC 4731 §3.2: for MIN/MAX alone, that of those messages).
func (c *conn) writeESearch(cmd *command, opts *imap.SearchOptions, nums []uint32, sorted bool, modSeq uint64) error {
	if opts.ReturnSave && !opts.ReturnMin && !opts.ReturnMax && !opts.ReturnAll && !opts.ReturnCount {
		return nil
	}
	enc := c.w.enc
	enc.Atom("*").SP().Atom("ESEARCH").SP().Special('(').Atom("TAG").SP().Quoted(cmd.tag).Special(')')
	if cmd.uid {
		enc.SP().Atom("UID")
	}
	if len(nums) > 0 {
		lo, hi := nums[0], nums[len(nums)-1]
		if !sorted {
			for _, n := range nums {
				lo, hi = min(lo, n), max(hi, n)
			}
		}
		if opts.ReturnMin {
			enc.SP().Atom("MIN").SP().Number(lo)
		}
		if opts.ReturnMax {
			enc.SP().Atom("MAX").SP().Number(hi)
		}
		if opts.ReturnAll {
			// NumSetOf joins only ascending neighbours, so a sort
			// order survives: "3,1:2,5" is 3 then 1 2 then 5.
			enc.SP().Atom("ALL").SP().NumSet(imap.NumSetOf(nums))
		}
	}
	if opts.ReturnCount {
		enc.SP().Atom("COUNT").SP().Number(uint32(len(nums)))
	}
	if modSeq > 0 && len(nums) > 0 {
		enc.SP().Atom("MODSEQ").SP().Atom(strconv.FormatUint(modSeq, 10))
	}
	return c.w.end()
}
