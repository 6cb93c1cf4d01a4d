package imapserver

import (
	"time"

	"github.com/postern/postern/internal/imap"
)

// extKey reads the search keys of the message-level extensions: EMAILID
// and THREADID objectid (RFC 8474 §6), SAVEDBEFORE, SAVEDON, SAVEDSINCE
// and SAVEDATESUPPORTED (RFC 8514 §4.3). name is upper case.
func (p *searchParser) extKey(crit *imap.SearchCriteria, name string) error {
	switch name {
	case "EMAILID", "THREADID":
		var id string
		if !p.c.dec.ExpectSP() || !p.c.dec.ExpectAtom(&id) {
			return p.c.decErr()
		}
		if !validObjectID(id) {
			return imap.BAD("", "Invalid object ID")
		}
		if name == "EMAILID" {
			crit.EmailID = append(crit.EmailID, id)
		} else {
			crit.ThreadID = append(crit.ThreadID, id)
		}
		return nil
	case "SAVEDATESUPPORTED":
		// RFC 8514 §4.3: every message when the mailbox keeps save
		// dates, which every mailbox of ours does: ALL.
		return nil
	case "SAVEDBEFORE", "SAVEDON", "SAVEDSINCE":
		var t time.Time
		if !p.c.dec.ExpectSP() || !p.c.dec.ExpectDate(&t) {
			return p.c.decErr()
		}
		var sub imap.SearchCriteria
		switch name {
		case "SAVEDBEFORE":
			sub.SavedBefore = t
		case "SAVEDON":
			sub.SavedOn = t
		default:
			sub.SavedSince = t
		}
		andCriteria(crit, &sub)
		return nil
	}
	return imap.BAD("", "Unknown search key")
}

// validObjectID reports whether id is an objectid: 1*255(ALPHA / DIGIT /
// "_" / "-") (RFC 8474 §7).
func validObjectID(id string) bool {
	if id == "" || len(id) > 255 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// andExtCriteria is andCriteria for the criteria of the message-level
// extensions: object IDs are appended; a save date bound joins an unset
// field, and one that cannot share the field is kept as NOT NOT.
func andExtCriteria(dst, src *imap.SearchCriteria) {
	dst.EmailID = append(dst.EmailID, src.EmailID...)
	dst.ThreadID = append(dst.ThreadID, src.ThreadID...)
	var rest imap.SearchCriteria
	keep := false
	for _, f := range []struct{ d, s, r *time.Time }{
		{&dst.SavedSince, &src.SavedSince, &rest.SavedSince},
		{&dst.SavedBefore, &src.SavedBefore, &rest.SavedBefore},
		{&dst.SavedOn, &src.SavedOn, &rest.SavedOn},
	} {
		switch {
		case f.s.IsZero():
		case f.d.IsZero():
			*f.d = *f.s
		case !f.d.Equal(*f.s):
			*f.r, keep = *f.s, true
		}
	}
	if keep {
		dst.Not = append(dst.Not, imap.SearchCriteria{Not: []imap.SearchCriteria{rest}})
	}
}
