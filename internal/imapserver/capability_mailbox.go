package imapserver

import (
	"math"
	"strconv"
)

// mailboxCapabilities lists the mailbox-level extensions: LIST-EXTENDED
// (RFC 5258), LIST-STATUS (RFC 5819), SPECIAL-USE (RFC 6154 §2),
// CREATE-SPECIAL-USE (RFC 6154 §3), STATUS=SIZE (RFC 8438), APPENDLIMIT
// (RFC 7889 §2) and QUOTA (RFC 9208 §3.1.1).
func (c *conn) mailboxCapabilities() []string {
	caps := []string{"LIST-EXTENDED", "LIST-STATUS", "SPECIAL-USE"}
	if _, ok := c.session.(SessionCreateOptions); ok {
		caps = append(caps, "CREATE-SPECIAL-USE") // RFC 6154 §3
	}
	caps = append(caps, "STATUS=SIZE")
	caps = append(caps, "APPENDLIMIT="+strconv.FormatInt(appendLimit(c.srv.opts.MaxAppendSize), 10))
	if _, ok := c.session.(SessionQuota); ok {
		// RFC 9208 §3.1.1: every resource handled is advertised.
		caps = append(caps, "QUOTA", "QUOTA=RES-STORAGE", "QUOTA=RES-MESSAGE")
	}
	return caps
}

// appendLimit is the APPENDLIMIT value: RFC 7889 §4's append-limit is a
// number, at most 2^32-1 (RFC 3501 §9).
func appendLimit(n int64) int64 {
	return min(n, math.MaxUint32)
}
