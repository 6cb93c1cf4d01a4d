package message

import (
	"sort"
	"strconv"
	"strings"
)

// fillMIME sets the MIME fields of pt from its header (RFC 2045 §5-§8,
// RFC 2183, RFC 3282, RFC 2557, RFC 1864).
func fillMIME(pt *Part, inDigest bool) {
	h := pt.Header
	typ, sub, params, ok := parseMediaType(h.Get("Content-Type"))
	switch {
	case ok:
		pt.Type, pt.Subtype, pt.Params = typ, sub, params
	case inDigest:
		// RFC 2046 §5.1.5: the default inside a digest.
		pt.Type, pt.Subtype = "message", "rfc822"
	default:
		// RFC 2045 §5.2: missing or unusable Content-Type.
		pt.Type, pt.Subtype = "text", "plain"
		pt.Params = []Param{{Name: "charset", Value: "US-ASCII"}}
	}
	if len(h.fields) == 0 {
		return
	}
	pt.ID = h.Get("Content-ID")
	pt.Description = h.Get("Content-Description")
	pt.Encoding = strings.ToLower(firstToken(h.Get("Content-Transfer-Encoding")))
	if v := h.Get("Content-Disposition"); v != "" {
		pt.Disposition, pt.DispositionParams = parseDisposition(v)
	}
	pt.Language = parseLanguage(h.Get("Content-Language"))
	pt.Location = removeSpace(h.Get("Content-Location"))
	pt.MD5 = h.Get("Content-MD5")
}

// firstToken returns the first token of v, skipping comments.
func firstToken(v string) string {
	lx := lexer{s: v}
	lx.skipCFWS()
	return lx.token()
}

func removeSpace(s string) string {
	if !strings.ContainsAny(s, " \t") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
}

func parseLanguage(v string) []string {
	if v == "" {
		return nil
	}
	var langs []string
	lx := lexer{s: v}
	for {
		lx.skipCFWS()
		if lx.eof() {
			return langs
		}
		if lx.peek() == ',' {
			lx.i++
			continue
		}
		t := lx.token()
		if t == "" {
			lx.i++ // a stray special
			continue
		}
		langs = append(langs, t)
	}
}

// parseMediaType parses a Content-Type value (RFC 2045 §5.1): type "/"
// subtype, then parameters. ok is false when type or subtype is missing.
func parseMediaType(v string) (typ, sub string, params []Param, ok bool) {
	if v == "" {
		return "", "", nil, false
	}
	lx := lexer{s: v}
	lx.skipCFWS()
	typ = lx.token()
	lx.skipCFWS()
	if typ == "" || lx.eof() || lx.peek() != '/' {
		return "", "", nil, false
	}
	lx.i++
	lx.skipCFWS()
	sub = lx.token()
	if sub == "" {
		return "", "", nil, false
	}
	return strings.ToLower(typ), strings.ToLower(sub), lx.params(), true
}

// parseDisposition parses a Content-Disposition value (RFC 2183 §2).
func parseDisposition(v string) (string, []Param) {
	lx := lexer{s: v}
	lx.skipCFWS()
	d := lx.token()
	if d == "" {
		return "", nil
	}
	return strings.ToLower(d), lx.params()
}

// lexer scans MIME header values (RFC 2045 §5.1 tokens, RFC 5322 comments
// and quoted strings), leniently.
type lexer struct {
	s string
	i int
}

func (lx *lexer) eof() bool  { return lx.i >= len(lx.s) }
func (lx *lexer) peek() byte { return lx.s[lx.i] }

// skipCFWS skips whitespace and comments (RFC 5322 §3.2.2), nested ones too.
func (lx *lexer) skipCFWS() {
	for lx.i < len(lx.s) {
		switch lx.s[lx.i] {
		case ' ', '\t', '\r', '\n':
			lx.i++
		case '(':
			lx.comment()
		default:
			return
		}
	}
}

// comment skips a comment and returns its text.
func (lx *lexer) comment() string {
	depth := 0
	start := lx.i + 1
	for lx.i < len(lx.s) {
		c := lx.s[lx.i]
		lx.i++
		switch c {
		case '\\':
			lx.i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return lx.s[start : lx.i-1]
			}
		}
	}
	lx.i = len(lx.s)
	if start > len(lx.s) {
		return ""
	}
	return lx.s[start:]
}

func isTSpecial(c byte) bool {
	return strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0
}

// token reads an RFC 2045 token.
func (lx *lexer) token() string {
	start := lx.i
	for lx.i < len(lx.s) {
		c := lx.s[lx.i]
		if c <= ' ' || c == 0x7f || isTSpecial(c) {
			break
		}
		lx.i++
	}
	return lx.s[start:lx.i]
}

// quoted reads a quoted string starting at '"' and returns its content with
// quoted pairs resolved; an unterminated one runs to the end.
func (lx *lexer) quoted() string {
	lx.i++
	start := lx.i
	var sb *strings.Builder
	for lx.i < len(lx.s) {
		c := lx.s[lx.i]
		switch c {
		case '"':
			lx.i++
			if sb == nil {
				return lx.s[start : lx.i-1]
			}
			return sb.String()
		case '\\':
			if sb == nil {
				sb = new(strings.Builder)
				sb.WriteString(lx.s[start:lx.i])
			}
			lx.i++
			if lx.i < len(lx.s) {
				sb.WriteByte(lx.s[lx.i])
				lx.i++
			}
			continue
		}
		if sb != nil {
			sb.WriteByte(c)
		}
		lx.i++
	}
	if sb == nil {
		return lx.s[start:]
	}
	return sb.String()
}

// rawParam is one parameter as written, before RFC 2231 assembly.
type rawParam struct {
	name    string // lowercased, without the RFC 2231 suffix
	section int    // continuation number, -1 for none
	ext     bool   // value is charset'language'percent-encoded
	value   string
}

// params reads "; name=value" pairs leniently: unquoted values run to the
// next ';' or whitespace (so boundary=----=_Part_1 works), junk up to the
// next ';' is skipped.
func (lx *lexer) params() []Param {
	var raws []rawParam
	for {
		lx.skipCFWS()
		if lx.eof() {
			break
		}
		if lx.peek() != ';' {
			lx.skipTo(';')
			continue
		}
		lx.i++
		lx.skipCFWS()
		start := lx.i
		for lx.i < len(lx.s) && !strings.ContainsRune("=; \t\r\n", rune(lx.s[lx.i])) {
			lx.i++
		}
		name := lx.s[start:lx.i]
		lx.skipCFWS()
		if name == "" || lx.eof() || lx.peek() != '=' {
			continue
		}
		lx.i++
		lx.skipCFWS()
		var val string
		if !lx.eof() && lx.peek() == '"' {
			val = lx.quoted()
		} else {
			start := lx.i
			for lx.i < len(lx.s) && !strings.ContainsRune("; \t\r\n", rune(lx.s[lx.i])) {
				lx.i++
			}
			val = lx.s[start:lx.i]
		}
		raws = append(raws, splitParamName(strings.ToLower(name), val))
	}
	return assembleParams(raws)
}

func (lx *lexer) skipTo(c byte) {
	for lx.i < len(lx.s) && lx.s[lx.i] != c {
		if lx.s[lx.i] == '"' {
			lx.quoted()
			continue
		}
		lx.i++
	}
}

// splitParamName recognises the RFC 2231 forms name*, name*N and name*N*.
func splitParamName(name, val string) rawParam {
	rp := rawParam{name: name, section: -1, value: val}
	i := strings.IndexByte(name, '*')
	if i <= 0 {
		return rp
	}
	suffix := name[i+1:]
	if suffix == "" {
		rp.name, rp.ext = name[:i], true
		return rp
	}
	ext := strings.HasSuffix(suffix, "*")
	n, err := strconv.Atoi(strings.TrimSuffix(suffix, "*"))
	if err != nil || n < 0 || n > 999 {
		return rp
	}
	rp.name, rp.section, rp.ext = name[:i], n, ext
	return rp
}

// assembleParams joins RFC 2231 continuations and decodes extended values,
// keeping the order of first appearance. A parameter given both plainly and
// in RFC 2231 form takes the RFC 2231 value (RFC 2231 §4 is the newer form).
func assembleParams(raws []rawParam) []Param {
	if len(raws) == 0 {
		return nil
	}
	simple := true
	for _, r := range raws {
		if r.section >= 0 || r.ext {
			simple = false
			break
		}
	}
	params := make([]Param, 0, len(raws))
	if simple {
		for _, r := range raws {
			params = append(params, Param{Name: r.name, Value: r.value})
		}
		return params
	}
	var names []string
	groups := map[string][]rawParam{}
	for _, r := range raws {
		if _, ok := groups[r.name]; !ok {
			names = append(names, r.name)
		}
		groups[r.name] = append(groups[r.name], r)
	}
	for _, name := range names {
		q := joinParam(groups[name])
		q.Name = name
		params = append(params, q)
	}
	return params
}

// joinParam assembles the raw pieces of one parameter; the caller sets Name.
func joinParam(rs []rawParam) Param {
	var plain, ext *rawParam
	var secs []rawParam
	for i := range rs {
		r := &rs[i]
		switch {
		case r.section >= 0:
			secs = append(secs, *r)
		case r.ext:
			if ext == nil {
				ext = r
			}
		default:
			if plain == nil {
				plain = r
			}
		}
	}
	switch {
	case ext != nil:
		charset, lang, v := splitExtValue(ext.value)
		return extParam(charset, lang, percentDecode(v))
	case len(secs) > 0:
		sort.SliceStable(secs, func(i, j int) bool { return secs[i].section < secs[j].section })
		var charset, lang string
		var b []byte
		for i, s := range secs {
			v := s.value
			if s.ext {
				if i == 0 {
					charset, lang, v = splitExtValue(v)
				}
				b = append(b, percentDecode(v)...)
			} else {
				b = append(b, v...)
			}
		}
		return extParam(charset, lang, b)
	default:
		return Param{Value: plain.value}
	}
}

// extParam makes the value of an RFC 2231 parameter: b converted from
// charset to UTF-8 when the charset is known, recording in which charset the
// value ended up so that it can be encoded again (RFC 2231 §4).
func extParam(charset, lang string, b []byte) Param {
	if charset == "" {
		return Param{Value: string(b), Language: lang}
	}
	v, ok := convertCharset(charset, b)
	if ok {
		charset = "utf-8"
	}
	return Param{Value: v, Charset: charset, Language: lang}
}

// splitExtValue splits charset'language'value (RFC 2231 §4).
func splitExtValue(v string) (charset, lang, rest string) {
	i := strings.IndexByte(v, '\'')
	if i < 0 {
		return "", "", v
	}
	j := strings.IndexByte(v[i+1:], '\'')
	if j < 0 {
		return "", "", v
	}
	return v[:i], v[i+1 : i+1+j], v[i+1+j+1:]
}

func percentDecode(s string) []byte {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if h, ok := unhex(s[i+1]); ok {
				if l, ok := unhex(s[i+2]); ok {
					b = append(b, h<<4|l)
					i += 2
					continue
				}
			}
		}
		b = append(b, s[i])
	}
	return b
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// convertCharset converts b from charset to UTF-8 and reports whether it
// could; bytes in an unknown charset are kept as they are.
func convertCharset(charset string, b []byte) (string, bool) {
	dec, ok := CharsetDecoder(charset)
	if !ok {
		return string(b), false
	}
	out, err := dec.Bytes(b)
	if err != nil {
		return string(b), false
	}
	return string(out), true
}
