package imapserver

import "github.com/postern/postern/internal/imap"

// esearchModSeq returns the MODSEQ result option of an ESEARCH answering a
// search with a MODSEQ key (RFC 4731 §3.2, RFC 7162 §3.1.10): with MIN
// and/or MAX but neither ALL nor COUNT, the highest mod-sequence of just
// the one or two messages returned; otherwise highest, the highest of all
// the matches. nums are the matches, in sort order when sorted (ESORT
// reads MIN and MAX in sort order, RFC 5267 §3.1).
func (c *conn) esearchModSeq(cmd *command, opts *imap.SearchOptions, nums []uint32, sorted bool, highest uint64) (uint64, error) {
	if highest == 0 || len(nums) == 0 || opts.ReturnAll || opts.ReturnCount || !opts.ReturnMin && !opts.ReturnMax {
		return highest, nil
	}
	lo, hi := nums[0], nums[len(nums)-1]
	if !sorted {
		for _, n := range nums {
			lo, hi = min(lo, n), max(hi, n)
		}
	}
	var picked []uint32
	if opts.ReturnMin {
		picked = append(picked, lo)
	}
	if opts.ReturnMax {
		picked = append(picked, hi)
	}
	set := imap.NumSetOf(picked)
	crit := &imap.SearchCriteria{}
	if cmd.numKind() == imap.NumKindUID {
		crit.UID = []imap.NumSet{set}
	} else {
		crit.SeqNum = []imap.NumSet{set}
	}
	data, err := c.session.Search(c.ctx, cmd.numKind(), crit, &imap.SearchOptions{ModSeq: true})
	if err != nil {
		return 0, err
	}
	return data.ModSeq, nil
}
