package imapserver

import (
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/internal/imap"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/ianaindex"
)

// maxSearchNesting bounds NOT, OR and parenthesis nesting in a search
// program. It is well above MaxDepth because clients build long OR chains
// (Thunderbird nests one OR per address searched), yet bounds recursion.
const maxSearchNesting = 100

// handleSearch is SEARCH and UID SEARCH [RETURN (options)] [CHARSET
// charset] keys (RFC 3501 §6.4.4, §6.4.8; RFC 4731 §3 ESEARCH; RFC 9051
// §6.4.4, where an IMAP4rev2 client always gets ESEARCH).
func handleSearch(c *conn, cmd *command) error {
	if !c.dec.ExpectSP() {
		return c.decErr()
	}
	p := &searchParser{c: c, allowReturn: true}
	crit, err := p.program()
	if err != nil {
		return err
	}
	if err := c.endLine(cmd); err != nil {
		return err
	}
	opts := &p.opts
	if !p.sawReturn && c.enabled(ExtIMAP4rev2) {
		// RFC 9051 §6.4.4: no result option means ALL, as ESEARCH.
		p.sawReturn, opts.ReturnAll = true, true
	}
	if p.charsetErr != nil {
		c.searchFailed(opts, p.charsetErr)
		return p.charsetErr
	}
	if p.modSeq {
		c.condStoreEnabling()
		opts.ModSeq = true
	}
	data, err := c.session.Search(c.ctx, cmd.numKind(), crit, opts)
	if err != nil {
		c.searchFailed(opts, err)
		return errorf(cmd, err)
	}
	if p.sawReturn {
		modSeq, err := c.esearchModSeq(cmd, opts, data.All, false, data.ModSeq)
		if err != nil {
			return errorf(cmd, err)
		}
		return c.writeESearch(cmd, opts, data.All, false, modSeq)
	}
	enc := c.w.enc
	enc.Atom("*").SP().Atom("SEARCH")
	for _, n := range data.All {
		enc.SP().Number(n)
	}
	if len(data.All) > 0 && data.ModSeq > 0 {
		// RFC 7162 §3.1.6: the highest MODSEQ of the matches.
		enc.SP().Special('(').Atom("MODSEQ").SP().Atom(strconv.FormatUint(data.ModSeq, 10)).Special(')')
	}
	return c.w.end()
}

// program reads a whole search program, with its optional RETURN and
// CHARSET, up to the end of the arguments.
func (p *searchParser) program() (*imap.SearchCriteria, error) {
	crit := &imap.SearchCriteria{}
	for first := true; ; first = false {
		if err := p.key(crit, first, 0); err != nil {
			return nil, err
		}
		if !p.c.dec.SP() {
			return crit, nil
		}
	}
}

// errBadCharset lists the charsets every client can count on; any other
// that golang.org/x/text knows works too (RFC 3501 §6.4.4, §7.1 BADCHARSET).
var errBadCharset = &imap.Error{Type: imap.StatusNO, Code: imap.CodeBadCharset,
	CodeArg: "(US-ASCII UTF-8 ISO-8859-1)", Text: "Unsupported charset"}

// searchParser reads a search program, converting its strings from the
// CHARSET to UTF-8.
type searchParser struct {
	c *conn
	// allowReturn says RETURN may open the program (SEARCH, not SORT or
	// THREAD, whose RETURN comes before the sort criteria); sawReturn
	// that it did, with opts its options (RFC 4731 §3.1).
	allowReturn, sawReturn bool
	opts                   imap.SearchOptions
	// keys counts the keys read (MaxSearchKeys).
	keys    int
	decoder *encoding.Decoder // nil: the strings are US-ASCII or UTF-8
	// charsetErr is set for an unknown charset; it is returned once the
	// whole command is read, so that literals in it are handled normally.
	charsetErr error
	// modSeq is set when the program has a MODSEQ key (RFC 7162 §3.1.5).
	modSeq bool
}

// setCharset selects the CHARSET of the search strings.
func (p *searchParser) setCharset(name string) {
	if p.c.enabled(ExtUTF8Accept) {
		p.charsetErr = errCharsetAfterUTF8
		return
	}
	switch strings.ToUpper(name) {
	case "US-ASCII", "UTF-8", "ASCII", "UTF8":
		return
	}
	enc, err := ianaindex.IANA.Encoding(name)
	if err != nil || enc == nil { // nil: known name, no decoder in x/text
		p.charsetErr = errBadCharset
		return
	}
	p.decoder = enc.NewDecoder()
}

// str reads a search string (astring) and converts it to UTF-8.
func (p *searchParser) str() (string, error) {
	var s string
	if !p.c.dec.ExpectSP() || !p.c.dec.ExpectAString(&s) {
		return "", p.c.decErr()
	}
	if p.decoder == nil {
		return s, nil
	}
	u, err := p.decoder.String(s)
	if err != nil {
		return "", imap.BAD("", "Search string is not valid in its charset")
	}
	return u, nil
}

// key reads one search-key (RFC 3501 §9) into crit, ANDed with what is
// there. CHARSET is allowed as the first token only.
func (p *searchParser) key(crit *imap.SearchCriteria, first bool, depth int) error {
	dec := p.c.dec
	if depth > maxSearchNesting {
		return imap.BAD(imap.CodeLimit, "Search program nested too deeply")
	}
	// Every key, NOT, OR and group counts: the session's work is keys
	// times messages, and the line limit alone allows some 30000 keys.
	p.keys++
	if max := p.c.srv.opts.MaxSearchKeys; p.keys > max {
		return imap.BAD(imap.CodeLimit, "More than "+strconv.Itoa(max)+" search keys")
	}
	b, _ := dec.PeekByte()
	switch {
	case b == '(':
		var sub imap.SearchCriteria
		n := 0
		ok := dec.ExpectList(func() error {
			n++
			return p.key(&sub, false, depth+1)
		})
		if !ok {
			return p.c.decErr()
		}
		if n == 0 {
			return imap.BAD("", "Empty search key list")
		}
		andCriteria(crit, &sub)
		return nil
	case b >= '0' && b <= '9' || b == '*' || b == '$':
		var set imap.NumSet
		if err := p.c.expectNumSet(&set); err != nil {
			return err
		}
		crit.SeqNum = append(crit.SeqNum, set)
		return nil
	}
	var name string
	if !dec.ExpectAtom(&name) {
		return p.c.decErr()
	}
	name = strings.ToUpper(name)
	if flag, ok := searchFlagKeys[name]; ok {
		crit.Flag = append(crit.Flag, flag...)
		return nil
	}
	if flag, ok := searchNotFlagKeys[name]; ok {
		crit.NotFlag = append(crit.NotFlag, flag)
		return nil
	}
	if field, ok := searchHeaderKeys[name]; ok {
		s, err := p.str()
		if err != nil {
			return err
		}
		crit.Header = append(crit.Header, imap.SearchCriteriaHeaderField{Key: field, Value: s})
		return nil
	}
	switch name {
	case "CHARSET":
		if !first {
			return imap.BAD("", "CHARSET must come first")
		}
		var cs string
		if !dec.ExpectSP() || !dec.ExpectAString(&cs) || !dec.ExpectSP() {
			return p.c.decErr()
		}
		p.setCharset(cs)
		return p.key(crit, false, depth)
	case "RETURN":
		if !first || !p.allowReturn || p.sawReturn {
			return imap.BAD("", "RETURN must come first")
		}
		if !dec.ExpectSP() {
			return p.c.decErr()
		}
		if err := p.c.returnOpts(&p.opts); err != nil {
			return err
		}
		p.sawReturn = true
		if !dec.ExpectSP() {
			return p.c.decErr()
		}
		return p.key(crit, true, depth)
	case "OLDER", "YOUNGER":
		// RFC 5032 §4: interval = nz-number (seconds).
		var n uint32
		if !dec.ExpectSP() || !dec.ExpectNZNumber(&n) {
			return p.c.decErr()
		}
		sub := imap.SearchCriteria{Older: n}
		if name == "YOUNGER" {
			sub = imap.SearchCriteria{Younger: n}
		}
		andCriteria(crit, &sub)
	case "ALL":
	case "NEW":
		crit.Flag = append(crit.Flag, imap.FlagRecent)
		crit.NotFlag = append(crit.NotFlag, imap.FlagSeen)
	case "KEYWORD", "UNKEYWORD":
		var kw string
		if !dec.ExpectSP() || !dec.ExpectAtom(&kw) {
			return p.c.decErr()
		}
		if name == "KEYWORD" {
			crit.Flag = append(crit.Flag, imap.Flag(kw))
		} else {
			crit.NotFlag = append(crit.NotFlag, imap.Flag(kw))
		}
	case "HEADER":
		var field string
		if !dec.ExpectSP() || !dec.ExpectAString(&field) {
			return p.c.decErr()
		}
		s, err := p.str()
		if err != nil {
			return err
		}
		crit.Header = append(crit.Header, imap.SearchCriteriaHeaderField{Key: field, Value: s})
	case "BODY", "TEXT":
		s, err := p.str()
		if err != nil {
			return err
		}
		if name == "BODY" {
			crit.Body = append(crit.Body, s)
		} else {
			crit.Text = append(crit.Text, s)
		}
	case "BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE":
		var t time.Time
		if !dec.ExpectSP() || !dec.ExpectDate(&t) {
			return p.c.decErr()
		}
		var sub imap.SearchCriteria
		switch name {
		case "BEFORE":
			sub.Before = t
		case "ON":
			sub.On = t
		case "SINCE":
			sub.Since = t
		case "SENTBEFORE":
			sub.SentBefore = t
		case "SENTON":
			sub.SentOn = t
		case "SENTSINCE":
			sub.SentSince = t
		}
		andCriteria(crit, &sub)
	case "LARGER", "SMALLER":
		var n uint32
		if !dec.ExpectSP() || !dec.ExpectNumber(&n) {
			return p.c.decErr()
		}
		var sub imap.SearchCriteria
		switch {
		case name == "LARGER":
			sub.Larger = int64(n)
		case n == 0:
			// SMALLER 0 matches nothing, but 0 means "unset".
			sub.Not = []imap.SearchCriteria{{}}
		default:
			sub.Smaller = int64(n)
		}
		andCriteria(crit, &sub)
	case "UID":
		var set imap.NumSet
		if !dec.ExpectSP() {
			return p.c.decErr()
		}
		if err := p.c.expectNumSet(&set); err != nil {
			return err
		}
		crit.UID = append(crit.UID, set)
	case "MODSEQ":
		return p.readSearchModSeq(crit)
	case "NOT":
		var sub imap.SearchCriteria
		if !dec.ExpectSP() {
			return p.c.decErr()
		}
		if err := p.key(&sub, false, depth+1); err != nil {
			return err
		}
		crit.Not = append(crit.Not, sub)
	case "OR":
		var or [2]imap.SearchCriteria
		for i := range or {
			if !dec.ExpectSP() {
				return p.c.decErr()
			}
			if err := p.key(&or[i], false, depth+1); err != nil {
				return err
			}
		}
		crit.Or = append(crit.Or, or)
	default:
		return p.extKey(crit, name)
	}
	return nil
}

// searchFlagKeys are the keys that require flags (RFC 3501 §6.4.4).
var searchFlagKeys = map[string][]imap.Flag{
	"ANSWERED": {imap.FlagAnswered},
	"DELETED":  {imap.FlagDeleted},
	"DRAFT":    {imap.FlagDraft},
	"FLAGGED":  {imap.FlagFlagged},
	"RECENT":   {imap.FlagRecent},
	"SEEN":     {imap.FlagSeen},
}

// searchNotFlagKeys are the keys that require a flag to be absent.
var searchNotFlagKeys = map[string]imap.Flag{
	"UNANSWERED": imap.FlagAnswered,
	"UNDELETED":  imap.FlagDeleted,
	"UNDRAFT":    imap.FlagDraft,
	"UNFLAGGED":  imap.FlagFlagged,
	"UNSEEN":     imap.FlagSeen,
	"OLD":        imap.FlagRecent,
}

// searchHeaderKeys are the shorthand header searches.
var searchHeaderKeys = map[string]string{
	"BCC":     "Bcc",
	"CC":      "Cc",
	"FROM":    "From",
	"SUBJECT": "Subject",
	"TO":      "To",
}

// andCriteria adds src to dst (both must match). Set-valued fields are
// appended; for single-valued ones the stricter bound is kept, and where
// two values cannot be combined in one field, src is kept as NOT NOT src.
func andCriteria(dst, src *imap.SearchCriteria) {
	dst.SeqNum = append(dst.SeqNum, src.SeqNum...)
	dst.UID = append(dst.UID, src.UID...)
	dst.Header = append(dst.Header, src.Header...)
	dst.Body = append(dst.Body, src.Body...)
	dst.Text = append(dst.Text, src.Text...)
	dst.Flag = append(dst.Flag, src.Flag...)
	dst.NotFlag = append(dst.NotFlag, src.NotFlag...)
	dst.Not = append(dst.Not, src.Not...)
	dst.Or = append(dst.Or, src.Or...)
	andExtCriteria(dst, src)

	later := func(d *time.Time, s time.Time) {
		if !s.IsZero() && (d.IsZero() || s.After(*d)) {
			*d = s
		}
	}
	earlier := func(d *time.Time, s time.Time) {
		if !s.IsZero() && (d.IsZero() || s.Before(*d)) {
			*d = s
		}
	}
	later(&dst.Since, src.Since)
	later(&dst.SentSince, src.SentSince)
	earlier(&dst.Before, src.Before)
	earlier(&dst.SentBefore, src.SentBefore)
	if src.Older > dst.Older {
		dst.Older = src.Older
	}
	if src.Younger != 0 && (dst.Younger == 0 || src.Younger < dst.Younger) {
		dst.Younger = src.Younger
	}
	if src.Larger > dst.Larger {
		dst.Larger = src.Larger
	}
	if src.Smaller != 0 && (dst.Smaller == 0 || src.Smaller < dst.Smaller) {
		dst.Smaller = src.Smaller
	}

	var rest imap.SearchCriteria
	keep := false
	if !src.On.IsZero() {
		if dst.On.IsZero() {
			dst.On = src.On
		} else if !dst.On.Equal(src.On) {
			rest.On, keep = src.On, true
		}
	}
	if !src.SentOn.IsZero() {
		if dst.SentOn.IsZero() {
			dst.SentOn = src.SentOn
		} else if !dst.SentOn.Equal(src.SentOn) {
			rest.SentOn, keep = src.SentOn, true
		}
	}
	if src.ModSeq != 0 {
		if dst.ModSeq == 0 {
			dst.ModSeq = src.ModSeq
		} else if dst.ModSeq != src.ModSeq {
			rest.ModSeq, keep = max(dst.ModSeq, src.ModSeq), true
		}
	}
	if keep {
		dst.Not = append(dst.Not, imap.SearchCriteria{Not: []imap.SearchCriteria{rest}})
	}
}
