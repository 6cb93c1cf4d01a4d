package sortthread

import (
	"strings"

	"github.com/postern/postern/internal/message"
)

// BaseSubject returns the base subject of a raw Subject: header value, by
// exactly the procedure of RFC 5256 §2.1 and the subj-* rules of §5:
// encoded words decoded to UTF-8 (message.DecodeHeader), tabs and line
// breaks turned into spaces and runs of spaces collapsed, then trailing
// "(fwd)" and spaces, leading "Re:", "Fw:", "Fwd:" (with optional [blob]
// before the colon and [blobs] before them), a leading [blob] that is not
// the whole subject, and a "[fwd: ...]" wrapper removed until none is
// left. The result is not case-mapped: compare base subjects with Collate.
func BaseSubject(subject string) string {
	s, _ := baseSubject(subject)
	return s
}

// baseSubject is BaseSubject that also reports whether the extraction
// removed a subj-refwd, a "(fwd)" trailer or a [fwd: ...] wrapper: RFC 5256
// REFERENCES calls such a message "a reply or forward" (step 5).
func baseSubject(subject string) (base string, reply bool) {
	s := collapseSpace(message.DecodeHeader(subject))
	for {
		// (2) Trailers: "(fwd)" and WSP, repeatedly.
		var fwd bool
		s, fwd = trimTrailers(s)
		reply = reply || fwd
		// (3)-(5) Leaders and blobs, repeatedly.
		for {
			n, refwd, run, last := leaderLen(s)
			if n > 0 {
				s = s[n:]
				reply = reply || refwd
				continue
			}
			// (4) A leading blob goes only if a subj-base remains; the
			// blob swallowed the spaces after it, so any rest qualifies.
			// s starts with a run of blobs that no subj-refwd follows,
			// so removing one blob cannot make (3) match: (4) would
			// remove them one at a time, which here is done at once
			// (keeping this linear for a subject of many blobs).
			switch {
			case run == 0:
			case run < len(s):
				s = s[run:]
			default:
				s = s[last:] // the last blob is the base
			}
			break
		}
		// (6) The "[fwd:" ... "]" wrapper, then again from (2).
		if len(s) >= len("[fwd:]") && hasPrefixFold(s, "[fwd:") && s[len(s)-1] == ']' {
			s = s[len("[fwd:") : len(s)-1]
			reply = true
			continue
		}
		return s, reply
	}
}

// collapseSpace is step (1) of RFC 5256 §2.1 after decoding: tabs and
// line breaks (continuations) become spaces and runs of spaces one space.
func collapseSpace(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			if !space {
				sb.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		sb.WriteByte(c)
	}
	return sb.String()
}

// trimTrailers removes subj-trailer ("(fwd)" / WSP) from the end of s
// until none is left, and reports whether a "(fwd)" went.
func trimTrailers(s string) (string, bool) {
	fwd := false
	for {
		switch {
		case strings.HasSuffix(s, " "):
			s = s[:len(s)-1]
		case len(s) >= len("(fwd)") && strings.EqualFold(s[len(s)-len("(fwd)"):], "(fwd)"):
			s = s[:len(s)-len("(fwd)")]
			fwd = true
		default:
			return s, fwd
		}
	}
}

// leaderLen returns the length of the subj-leader at the start of s
// (RFC 5256 §5: (*subj-blob subj-refwd) / WSP), 0 when there is none, and
// whether it contained a subj-refwd. When there is none, run is where the
// leading subj-blobs end (0 if there are none) and last is where the last
// of them starts.
func leaderLen(s string) (n int, refwd bool, run, last int) {
	if strings.HasPrefix(s, " ") {
		return 1, false, 0, 0
	}
	i := 0
	for {
		if n, ok := refwdLen(s, i); ok {
			return n, true, 0, 0
		}
		n, ok := blobLen(s, i)
		if !ok {
			return 0, false, i, last
		}
		last, i = i, n
	}
}

// refwdLen matches subj-refwd at s[i:] (RFC 5256 §5:
// ("re" / ("fw" ["d"])) *WSP [subj-blob] ":") and returns where it ends.
func refwdLen(s string, i int) (int, bool) {
	switch {
	case hasPrefixFold(s[i:], "re"):
		i += 2
	case hasPrefixFold(s[i:], "fwd"):
		// "fw" then "d": a 'd' can only be the optional "d" here, since
		// nothing else that may follow "fw" starts with one.
		i += 3
	case hasPrefixFold(s[i:], "fw"):
		i += 2
	default:
		return 0, false
	}
	i = skipWSP(s, i)
	if n, ok := blobLen(s, i); ok {
		i = n
	}
	if i < len(s) && s[i] == ':' {
		return i + 1, true
	}
	return 0, false
}

// blobLen matches subj-blob at s[i:] (RFC 5256 §5: "[" *BLOBCHAR "]"
// *WSP, BLOBCHAR being any octet but NUL, "[" and "]") and returns where
// it ends.
func blobLen(s string, i int) (int, bool) {
	if i >= len(s) || s[i] != '[' {
		return 0, false
	}
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case ']':
			return skipWSP(s, j+1), true
		case '[', 0:
			return 0, false
		}
	}
	return 0, false
}

func skipWSP(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// hasPrefixFold reports whether s starts with the lower-case ASCII prefix,
// ignoring ASCII case (ABNF literals are case-insensitive, RFC 5234 §2.3).
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
