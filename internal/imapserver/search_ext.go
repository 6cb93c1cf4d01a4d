package imapserver

import "github.com/postern/postern/internal/imap"

// extKey reads the search keys of the message-level extensions: EMAILID
// and THREADID objectid (RFC 8474 §6). name is upper case.
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
