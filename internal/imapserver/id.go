package imapserver

import (
	"strings"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/imapwire"
)

// Bounds on what the server keeps of a client's ID (RFC 2971 §3.3: fields
// of at most 30 octets, values of at most 1024, at most 30 pairs). A
// client over them is tolerated (the command line limit already bounds
// the memory); only the log line is cut, so that one ID cannot flood the
// log.
const (
	idMaxPairs     = 30
	idMaxFieldLog  = 30
	idMaxValueLog  = 128
	idMaxLogOctets = 1024
)

// idField is one field-value pair of an ID list (RFC 2971 §3.1); Nil is
// set for a NIL value.
type idField struct {
	Field, Value string
	Nil          bool
}

// parseIDParams reads id-params-list = "(" *(string SP nstring) ")" / nil
// (RFC 2971 §4), the decoder being just after "ID SP". A NIL list returns
// nil fields and isNil.
func parseIDParams(dec *imapwire.Decoder) (fields []idField, isNil bool, err error) {
	if b, ok := dec.PeekByte(); ok && b != '(' {
		var a string
		if dec.Atom(&a) && strings.EqualFold(a, "NIL") {
			return nil, true, nil
		}
		if dec.Err() != nil {
			return nil, false, dec.Err()
		}
		return nil, false, imap.BAD("", "ID expects a list or NIL")
	}
	ok := dec.ExpectList(func() error {
		var f idField
		if !dec.ExpectString(&f.Field) || !dec.ExpectSP() || !dec.ExpectNString(&f.Value, &f.Nil) {
			return nil // the decoder holds the error
		}
		fields = append(fields, f)
		return nil
	})
	if !ok {
		if err := dec.Err(); err != nil {
			return nil, false, err
		}
		return nil, false, imap.BAD("", "Syntax error in ID list")
	}
	return fields, false, nil
}

// handleID is ID (RFC 2971 §3.1), valid in any state: the client's fields
// go to the connection's log (as Dovecot's imap_id_log does, bounded), and
// the server answers with its name and version, or NIL when
// Options.HideID is set (RFC 2971 §3.2 allows NIL; §7 on privacy).
func handleID(c *conn, cmd *command) error {
	if !c.dec.ExpectSP() {
		return c.decErr()
	}
	fields, _, err := parseIDParams(c.dec)
	if err != nil {
		if _, ok := imap.AsError(err); ok {
			return err
		}
		return c.decErr()
	}
	if err := c.endLine(cmd); err != nil {
		return err
	}
	if len(fields) > 0 {
		c.log.Info("imapserver: client ID", "id", idLogString(fields))
	}
	w := c.w
	w.enc.Atom("*").SP().Atom("ID").SP()
	srv := c.serverID()
	if len(srv) == 0 {
		w.enc.Atom("NIL")
	} else {
		w.enc.List(len(srv), func(i int) {
			w.enc.Quoted(srv[i].Field).SP()
			if srv[i].Nil {
				w.enc.Atom("NIL")
			} else {
				w.enc.Quoted(srv[i].Value)
			}
		})
	}
	return w.end()
}

// serverID is what the server says about itself: its name, and its
// version when Options.Version is set; nothing about the host (RFC 2971
// §7: the operating system helps attackers more than clients).
func (c *conn) serverID() []idField {
	if c.srv.opts.HideID {
		return nil
	}
	f := []idField{{Field: "name", Value: "Postern"}}
	if v := c.srv.opts.Version; v != "" && !strings.ContainsAny(v, "\r\n\x00") {
		f = append(f, idField{Field: "version", Value: v})
	}
	return f
}

// idLogString formats a client's ID fields for one log line: at most
// idMaxPairs pairs, each field and value cut, non-printable octets
// replaced, and the whole under idMaxLogOctets.
func idLogString(fields []idField) string {
	var b strings.Builder
	for i, f := range fields {
		if i == idMaxPairs || b.Len() >= idMaxLogOctets {
			b.WriteString(" ...")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(idSanitize(f.Field, idMaxFieldLog))
		b.WriteByte('=')
		if f.Nil {
			b.WriteString("NIL")
			continue
		}
		b.WriteString(idSanitize(f.Value, idMaxValueLog))
	}
	s := b.String()
	if len(s) > idMaxLogOctets+4 {
		s = s[:idMaxLogOctets] + " ..."
	}
	return s
}

// idSanitize cuts s to max octets and replaces control octets, so that a
// client cannot forge log lines.
func idSanitize(s string, max int) string {
	cut := len(s) > max
	if cut {
		s = s[:max]
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	if cut {
		s += "..."
	}
	return s
}
