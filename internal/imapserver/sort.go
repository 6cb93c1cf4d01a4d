package imapserver

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/postern/postern/internal/imap"
)

// SessionSort is implemented by sessions that support SORT and THREAD
// (RFC 5256), with the DISPLAYFROM and DISPLAYTO keys (RFC 5957). The
// server parses the command, converting the search strings from the
// command's charset to UTF-8 as for SEARCH, and writes the responses.
type SessionSort interface {
	Session
	// Sort returns the numbers (sequence numbers, or UIDs for UID SORT)
	// of the messages matching criteria, in the order keys give (RFC
	// 5256 §3; the sequence number is the implicit last key). With
	// opts.ReturnSave it sets the search result variable (RFC 5182
	// §2.1), keeping the first and/or last in sort order for MIN and MAX
	// alone (RFC 5267 §3.1 reads MIN and MAX in sort order). The numbers
	// are in SearchData.All, in sort order; with opts.ModSeq (a MODSEQ
	// key), SearchData.ModSeq is the highest MODSEQ of the matches (RFC
	// 7162 §3.1.9), as Search gives it.
	Sort(ctx context.Context, kind imap.NumKind, keys []imap.SortKey, criteria *imap.SearchCriteria, opts *imap.SearchOptions) (*imap.SearchData, error)
	// Thread returns the threads of the messages matching criteria by
	// algorithm (RFC 5256 §3), numbered by kind.
	Thread(ctx context.Context, kind imap.NumKind, algorithm imap.ThreadAlgorithm, criteria *imap.SearchCriteria) ([]imap.Thread, error)
}

// sortKeys are the sort-key names of RFC 5256 §3 and RFC 5957 §3.
var sortKeys = map[string]bool{
	"ARRIVAL": true, "CC": true, "DATE": true, "FROM": true, "SIZE": true,
	"SUBJECT": true, "TO": true, "DISPLAYFROM": true, "DISPLAYTO": true,
}

// handleSort is SORT and UID SORT [RETURN (options)] (sort-criteria)
// charset search-keys (RFC 5256 §3, RFC 5267 §3 ESORT). The charset is
// mandatory. A SORT with RETURN answers ESEARCH instead of SORT.
func handleSort(c *conn, cmd *command) error {
	ss := c.session.(SessionSort) // the dispatcher checked
	if !c.dec.ExpectSP() {
		return c.decErr()
	}
	var opts imap.SearchOptions
	extended := false
	if b, _ := c.dec.PeekByte(); b != '(' {
		var name string
		if !c.dec.ExpectAtom(&name) {
			return c.decErr()
		}
		if !strings.EqualFold(name, "RETURN") {
			return imap.BAD("", "Expected RETURN or sort criteria")
		}
		if !c.dec.ExpectSP() {
			return c.decErr()
		}
		if err := c.returnOpts(&opts); err != nil {
			return err
		}
		extended = true
		if !c.dec.ExpectSP() {
			return c.decErr()
		}
	}
	keys, err := c.sortCriteria()
	if err != nil {
		return err
	}
	p, crit, err := c.charsetProgram()
	if err != nil {
		return err
	}
	if err := c.endLine(cmd); err != nil {
		return err
	}
	if p.charsetErr != nil {
		c.searchFailed(&opts, p.charsetErr)
		return p.charsetErr
	}
	if p.modSeq {
		// A MODSEQ key is a CONDSTORE enabling command (RFC 7162 §3.1),
		// and SORT's result then carries the highest MODSEQ (§3.1.9).
		c.condStoreEnabling()
		opts.ModSeq = true
	}
	data, err := ss.Sort(c.ctx, cmd.numKind(), keys, crit, &opts)
	if err != nil {
		c.searchFailed(&opts, err)
		return errorf(cmd, err)
	}
	nums, modSeq := data.All, data.ModSeq
	if extended {
		if modSeq, err = c.esearchModSeq(cmd, &opts, nums, true, modSeq); err != nil {
			return errorf(cmd, err)
		}
		return c.writeESearch(cmd, &opts, nums, true, modSeq)
	}
	enc := c.w.enc
	enc.Atom("*").SP().Atom("SORT")
	for _, n := range nums {
		enc.SP().Number(n)
	}
	if len(nums) > 0 && modSeq > 0 {
		// RFC 7162 §3.1.9: sort-data ends with the highest MODSEQ.
		enc.SP().Special('(').Atom("MODSEQ").SP().Atom(strconv.FormatUint(modSeq, 10)).Special(')')
	}
	return c.w.end()
}

// sortCriteria reads sort-criteria (RFC 5256 §5): "(" sort-criterion
// *(SP sort-criterion) ")", each ["REVERSE" SP] sort-key. A key given
// again is dropped.
func (c *conn) sortCriteria() ([]imap.SortKey, error) {
	var keys []imap.SortKey
	ok := c.dec.ExpectList(func() error {
		var name string
		if !c.dec.ExpectAtom(&name) {
			return c.decErr()
		}
		name = strings.ToUpper(name)
		var k imap.SortKey
		if name == "REVERSE" {
			k.Reverse = true
			if !c.dec.ExpectSP() || !c.dec.ExpectAtom(&name) {
				return c.decErr()
			}
			name = strings.ToUpper(name)
		}
		if !sortKeys[name] {
			return imap.BAD("", "Unknown sort key")
		}
		k.Name = name
		// A key already given cannot change the order: messages it would
		// separate were already separated by its first use (REVERSE or
		// not). Dropping it bounds the keys compared per message pair to
		// the number of distinct keys, however long the list a client
		// sends (found by integration's TestHostile: 5000 DATE keys were
		// all compared).
		if slices.ContainsFunc(keys, func(o imap.SortKey) bool { return o.Name == name }) {
			return nil
		}
		keys = append(keys, k)
		return nil
	})
	if !ok {
		return nil, c.decErr()
	}
	if len(keys) == 0 {
		return nil, imap.BAD("", "Empty sort criteria")
	}
	return keys, nil
}

// charsetProgram reads SP charset SP search-key *(SP search-key), the
// tail SORT and THREAD share (RFC 5256 §5: the charset is mandatory).
func (c *conn) charsetProgram() (*searchParser, *imap.SearchCriteria, error) {
	var cs string
	if !c.dec.ExpectSP() || !c.dec.ExpectAString(&cs) || !c.dec.ExpectSP() {
		return nil, nil, c.decErr()
	}
	p := &searchParser{c: c}
	p.setCharset(cs)
	crit := &imap.SearchCriteria{}
	for {
		if err := p.key(crit, false, 0); err != nil {
			return nil, nil, err
		}
		if !c.dec.SP() {
			return p, crit, nil
		}
	}
}

// handleThread is THREAD and UID THREAD algorithm charset search-keys
// (RFC 5256 §3), answered by one THREAD response.
func handleThread(c *conn, cmd *command) error {
	ss := c.session.(SessionSort) // the dispatcher checked
	var alg string
	if !c.dec.ExpectSP() || !c.dec.ExpectAtom(&alg) {
		return c.decErr()
	}
	algorithm := imap.ThreadAlgorithm(strings.ToUpper(alg))
	if algorithm != imap.ThreadOrderedSubject && algorithm != imap.ThreadReferences {
		return imap.BAD("", "Unknown threading algorithm")
	}
	p, crit, err := c.charsetProgram()
	if err != nil {
		return err
	}
	if err := c.endLine(cmd); err != nil {
		return err
	}
	if p.charsetErr != nil {
		return p.charsetErr
	}
	threads, err := ss.Thread(c.ctx, cmd.numKind(), algorithm, crit)
	if err != nil {
		return errorf(cmd, err)
	}
	b := []byte("THREAD")
	if len(threads) > 0 {
		b = append(b, ' ')
	}
	for _, t := range threads {
		b = appendThread(b, &t)
	}
	c.w.enc.Atom("*").SP().Text(string(b))
	return c.w.end()
}

// appendThread appends one thread-list (RFC 5256 §5): "(" the chain of
// numbers, then the nested sub-threads ")".
func appendThread(b []byte, t *imap.Thread) []byte {
	b = append(b, '(')
	for i, n := range t.Nums {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendUint(b, uint64(n), 10)
	}
	if len(t.Nums) > 0 && len(t.Children) > 0 {
		b = append(b, ' ')
	}
	for i := range t.Children {
		b = appendThread(b, &t.Children[i])
	}
	return append(b, ')')
}
