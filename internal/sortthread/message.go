package sortthread

import (
	"time"

	"github.com/postern/postern/internal/message"
)

// Message is what SORT and THREAD need to know about one message
// (RFC 5256 §3). The caller fills it from the index or from
// message.ParseEnvelope; the zero value of each field means "absent".
type Message struct {
	// Seq is the message sequence number. It is the implicit last sort
	// key and the tie-breaker for equal sent dates (RFC 5256 §2.2, §3),
	// and it decides which of several messages with the same Message-ID
	// keeps it (RFC 5256 REFERENCES step 1.A). Seq values should be
	// distinct; when they are not, the input order breaks the tie.
	Seq uint32
	// UID is carried for the caller (UID SORT, UID THREAD); the
	// algorithms do not look at it.
	UID uint32
	// InternalDate is the INTERNALDATE (RFC 3501 §2.3.3): the ARRIVAL
	// key, and the sent date when Date is zero.
	InternalDate time.Time
	// Size is RFC822.SIZE in octets: the SIZE key.
	Size int64
	// Date is the sent date (RFC 5256 §2.2): the Date: header as parsed
	// by message.ParseDate (which already treats a missing zone as UTC).
	// Zero when the header is absent or unparseable; InternalDate is
	// then used, as §2.2 says.
	Date time.Time
	// Subject is the raw, unfolded Subject: header value, encoded words
	// and all (message.Envelope.Subject). BaseSubject decodes it.
	Subject string
	// From, To and Cc are the address lists as in the ENVELOPE
	// (message.Envelope). Only the first address of each is used.
	From, To, Cc []message.Address
	// MessageID, InReplyTo and References are the raw header values
	// (the last three of message.Header.Get). "" means absent. The
	// msg-ids in them are parsed and normalized here (RFC 5256
	// REFERENCES: quoting does not matter).
	MessageID, InReplyTo, References string
}

// sentDate is the sent date of RFC 5256 §2.2: the Date: header, or the
// internal date when there is none. Comparing time.Time values compares
// instants, so zones are normalized to UTC as §2.2 asks.
func (m *Message) sentDate() time.Time {
	if m.Date.IsZero() {
		return m.InternalDate
	}
	return m.Date
}
