package migrate

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// dovecotUIDList is a parsed dovecot-uidlist file (Dovecot's Maildir UID
// mapping; doc.dovecot.org, "Maildir mailbox format", dovecot-uidlist).
type dovecotUIDList struct {
	version     int
	uidValidity uint32
	nextUID     uint32
	guid        string
	// uids maps a file's base name (the name up to its ":2," info) to
	// its UID.
	uids map[string]uint32
}

// parseDovecotUIDList parses a dovecot-uidlist. Version 3 (Dovecot 1.0 and
// later):
//
//	3 V1700000000 N7 G4fdd3a0c8e2f5b4e0d0c0000a1b2c3d4
//	2 :1700000001.M1P1.host
//	5 W1260 S1234 :1700000002.M2P1.host,S=1234,W=1260
//
// a header of space-separated fields, each a letter and a value (V
// UIDVALIDITY, N next UID, G mailbox GUID; others ignored), then per
// message its UID, optional extension fields, and ":" before the file's
// base name. Version 1 (Dovecot before 1.0) is "1 UIDVALIDITY NEXTUID" and
// lines "UID NAME". Lines that do not parse (a torn last line after a
// crash) are skipped, as Dovecot does; a bad header is an error.
func parseDovecotUIDList(data []byte) (dovecotUIDList, error) {
	ul := dovecotUIDList{uids: map[string]uint32{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() {
		return ul, fmt.Errorf("migrate: dovecot-uidlist: empty")
	}
	h := strings.Fields(sc.Text())
	if len(h) == 0 {
		return ul, fmt.Errorf("migrate: dovecot-uidlist: empty header")
	}
	switch h[0] {
	case "1":
		if len(h) < 3 {
			return ul, fmt.Errorf("migrate: dovecot-uidlist: version 1 header %q", sc.Text())
		}
		uv, err1 := strconv.ParseUint(h[1], 10, 32)
		next, err2 := strconv.ParseUint(h[2], 10, 32)
		if err1 != nil || err2 != nil {
			return ul, fmt.Errorf("migrate: dovecot-uidlist: version 1 header %q", sc.Text())
		}
		ul.version, ul.uidValidity, ul.nextUID = 1, uint32(uv), uint32(next)
	case "2", "3":
		ul.version = int(h[0][0] - '0')
		for _, f := range h[1:] {
			v := f[1:]
			switch f[0] {
			case 'V':
				n, err := strconv.ParseUint(v, 10, 32)
				if err != nil {
					return ul, fmt.Errorf("migrate: dovecot-uidlist: UIDVALIDITY %q", v)
				}
				ul.uidValidity = uint32(n)
			case 'N':
				n, err := strconv.ParseUint(v, 10, 32)
				if err != nil {
					return ul, fmt.Errorf("migrate: dovecot-uidlist: next UID %q", v)
				}
				ul.nextUID = uint32(n)
			case 'G':
				ul.guid = v
			}
		}
	default:
		return ul, fmt.Errorf("migrate: dovecot-uidlist: unknown version %q", h[0])
	}
	if ul.uidValidity == 0 {
		return ul, fmt.Errorf("migrate: dovecot-uidlist: no UIDVALIDITY")
	}
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		num, rest, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		uid, err := strconv.ParseUint(num, 10, 32)
		if err != nil || uid == 0 || uid == 0xffffffff {
			continue
		}
		var name string
		if ul.version == 1 {
			name = strings.TrimSpace(rest)
		} else {
			// The name follows the first field starting with ':'.
			i := strings.Index(" "+rest, " :")
			if i < 0 {
				continue
			}
			name = rest[i+1:]
		}
		if j := strings.IndexByte(name, ':'); j >= 0 {
			name = name[:j] // an info suffix has no place here; be lenient
		}
		if name == "" || strings.ContainsAny(name, "/\x00") {
			continue
		}
		ul.uids[name] = uint32(uid)
		if uint32(uid) >= ul.nextUID {
			ul.nextUID = uint32(uid) + 1
		}
	}
	if ul.nextUID == 0 {
		ul.nextUID = 1
	}
	return ul, nil
}

// lookup returns the UID of a file base name: exactly, or by the part
// before its first "," (Dovecot adds ",S=size,W=vsize" to names and may
// list the name with or without them).
func (ul *dovecotUIDList) lookup(base string) (uint32, bool) {
	if uid, ok := ul.uids[base]; ok {
		return uid, true
	}
	if short, _, ok := strings.Cut(base, ","); ok {
		if uid, ok := ul.uids[short]; ok {
			return uid, true
		}
	}
	return 0, false
}

// parseDovecotKeywords parses dovecot-keywords: lines "INDEX NAME", index
// 0 standing for the letter 'a' of Maildir file names.
func parseDovecotKeywords(data []byte) map[int]string {
	out := map[int]string{}
	for _, line := range strings.Split(string(data), "\n") {
		idx, name, ok := strings.Cut(strings.TrimSuffix(line, "\r"), " ")
		i, err := strconv.Atoi(idx)
		name = strings.TrimSpace(name)
		if !ok || err != nil || i < 0 || i >= 26 || !validKeyword(name) {
			continue
		}
		out[i] = name
	}
	return out
}

// validKeyword reports whether k can be an IMAP keyword: an atom (RFC 3501
// §9 flag-keyword) and not a system flag. A name holding CR, LF or another
// control would otherwise reach FLAGS responses as it is.
func validKeyword(k string) bool {
	if k == "" || strings.HasPrefix(k, `\`) {
		return false
	}
	for _, c := range []byte(k) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"]`, c) >= 0 {
			return false
		}
	}
	return true
}
