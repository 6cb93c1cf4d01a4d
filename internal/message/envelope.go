package message

// Envelope holds the ENVELOPE fields of a message (RFC 3501 §7.4.2). Strings
// are the raw, unfolded header values: encoded words are not decoded, as
// RFC 3501 wants.
type Envelope struct {
	Date, Subject                      string
	From, Sender, ReplyTo, To, Cc, Bcc []Address
	InReplyTo, MessageID               string

	// References is the raw, unfolded References value (RFC 5322
	// §3.6.4). It is not an ENVELOPE field, but threading needs it with
	// Message-ID and In-Reply-To (RFC 5256 §3 REFERENCES, RFC 8474 §5.2
	// THREADID), and keeping it here spares reading the header again.
	// Dovecot caches the same raw value for the same reason.
	References string
}

// ParseEnvelope builds the envelope of a message from its header. Sender and
// Reply-To default to From when they are absent or empty (RFC 3501 §7.4.2:
// the server sets them).
func ParseEnvelope(h Header) *Envelope {
	e := &Envelope{
		Date:      h.Get("Date"),
		Subject:   h.Get("Subject"),
		From:      addressField(h, "From"),
		Sender:    addressField(h, "Sender"),
		ReplyTo:   addressField(h, "Reply-To"),
		To:        addressField(h, "To"),
		Cc:        addressField(h, "Cc"),
		Bcc:       addressField(h, "Bcc"),
		InReplyTo: h.Get("In-Reply-To"),
		MessageID: h.Get("Message-ID"),

		References: h.Get("References"),
	}
	if len(e.Sender) == 0 {
		e.Sender = e.From
	}
	if len(e.ReplyTo) == 0 {
		e.ReplyTo = e.From
	}
	return e
}

func addressField(h Header, name string) []Address {
	v := h.Get(name)
	if v == "" {
		return nil
	}
	return ParseAddressList(v)
}
