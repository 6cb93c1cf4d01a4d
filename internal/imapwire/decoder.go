package imapwire

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/postern/postern/internal/imap"
)

// Default limits (DESIGN.md §6).
const (
	defaultMaxLineLength  = 64 << 10
	defaultMaxLiteralSize = 64 << 10
	defaultMaxDepth       = 8
)

// DecoderOptions are the limits and policy hooks of a Decoder.
type DecoderOptions struct {
	// MaxLineLength bounds the octets of one command line outside
	// literals, CRLF included; 0 means 64 KiB (DESIGN.md §6).
	MaxLineLength int
	// MaxLiteralSize bounds literals read into memory (String, AString);
	// 0 means 64 KiB. LiteralReader takes its own bound.
	MaxLiteralSize int64
	// MaxDepth bounds parenthesis nesting; 0 means 8.
	MaxDepth int
	// MaxLiteralTotal bounds the octets of all the literals of one command
	// line read into memory (the line length does not count literals, so
	// without it a line of many literals could hold thousands of
	// MaxLiteralSize each); 0 means 4 times MaxLiteralSize.
	MaxLiteralTotal int64
	// UTF8 starts the decoder in UTF-8 mode (see SetUTF8); false: the
	// IMAP4rev1 mode, mailbox names in modified UTF-7.
	UTF8 bool
	// Continue is called when the client announced a synchronizing literal
	// {n} that is within limits: it must write "+ ..." and flush. nil
	// means the decoder cannot ask for literals (tests).
	Continue func() error
}

// Decoder reads IMAP syntax (RFC 3501 §9). Methods named after ABNF
// productions return false when the next token is not that production
// (consuming nothing); Expect... variants record the first error (see Err)
// and return false. After an error every method returns false.
//
// A Decoder reads one command line at a time: call Reset before each
// command, and after an error call DiscardLine (before Reset) to skip what
// is left of the failed command. A Decoder is not safe for concurrent use.
type Decoder struct {
	r    *bufio.Reader
	opts DecoderOptions

	err   error
	errIO bool // err came from the reader or from Continue

	// lineLen counts the octets of the current command line outside
	// literals; tail keeps the last of them (indexed by lineLen) so that
	// DiscardLine can recognise a literal announcement that an error
	// interrupted. segStart is lineLen where the octets after the last
	// literal begin.
	lineLen  int
	segStart int
	// litTotal counts the octets of the line's literals read into memory
	// (MaxLiteralTotal).
	litTotal int64
	tail     [tailSize]byte

	depth int
	eol   bool           // the current command line's CRLF has been read
	lit   *literalReader // unfinished ExpectLiteralReader literal, or nil

	scratch []byte

	// utf8 is the mode of RFC 6855 §3 (see SetUTF8).
	utf8 bool
}

// NewDecoder returns a decoder reading from r.
func NewDecoder(r *bufio.Reader, opts DecoderOptions) *Decoder {
	if opts.MaxLineLength <= 0 {
		opts.MaxLineLength = defaultMaxLineLength
	}
	if opts.MaxLiteralSize <= 0 {
		opts.MaxLiteralSize = defaultMaxLiteralSize
	}
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = defaultMaxDepth
	}
	if opts.MaxLiteralTotal <= 0 {
		opts.MaxLiteralTotal = 4 * opts.MaxLiteralSize
	}
	return &Decoder{r: r, opts: opts, utf8: opts.UTF8}
}

// SetReader makes the decoder read from r from now on, between commands
// (a server that lends read buffers out while a connection waits: the
// old reader must have nothing buffered).
func (d *Decoder) SetReader(r *bufio.Reader) { d.r = r }

// Err returns the first error: a *SyntaxError for client mistakes (answer
// BAD with its text), a *LimitError for a limit hit, the error an
// ExpectList item returned, or an I/O error from the reader (io.EOF as
// is, not wrapped, so that err == io.EOF works).
func (d *Decoder) Err() error { return d.err }

// Reset clears the recorded error and the per-line counters before the next
// command line.
func (d *Decoder) Reset() {
	d.err = nil
	d.errIO = false
	d.lineLen = 0
	d.segStart = 0
	d.litTotal = 0
	d.depth = 0
	d.eol = false
	d.lit = nil
}

func (d *Decoder) setErr(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *Decoder) setIOErr(err error) {
	if d.err == nil {
		d.err = err
		d.errIO = true
	}
}

func (d *Decoder) syntax(format string, args ...any) bool {
	d.setErr(&SyntaxError{Msg: fmt.Sprintf(format, args...)})
	return false
}

// expected records "expected what, found X" for the next octet, which it
// does not consume (so that DiscardLine still finds a CRLF there).
func (d *Decoder) expected(what string) bool {
	b, ok := d.peekByte()
	if !ok {
		return false
	}
	return d.syntax("expected %s, found %s", what, describe(b))
}

// peekByte returns the next octet without consuming it.
func (d *Decoder) peekByte() (byte, bool) {
	if d.err != nil {
		return 0, false
	}
	p, err := d.r.Peek(1)
	if err != nil {
		d.setIOErr(err)
		return 0, false
	}
	return p[0], true
}

// readByte consumes one octet of the line, counting it against
// MaxLineLength.
func (d *Decoder) readByte() (byte, bool) {
	if d.err != nil {
		return 0, false
	}
	b, err := d.r.ReadByte()
	if err != nil {
		d.setIOErr(err)
		return 0, false
	}
	d.tail[d.lineLen%tailSize] = b
	d.lineLen++
	if d.lineLen > d.opts.MaxLineLength {
		d.lineTooLong()
		return 0, false
	}
	return b, true
}

// scan appends to buf the run of octets in class, consuming them, and
// stops before the first octet outside it. It works on the buffered
// octets in bulk: atoms are most of a command line.
func (d *Decoder) scan(class *[256]bool, buf []byte) ([]byte, bool) {
	for {
		if d.err != nil {
			return buf, false
		}
		if _, err := d.r.Peek(1); err != nil {
			d.setIOErr(err)
			return buf, false
		}
		p, _ := d.r.Peek(d.r.Buffered())
		i := 0
		for i < len(p) && class[p[i]] {
			i++
		}
		if room := d.opts.MaxLineLength - d.lineLen; i > room {
			// Consume up to the octet that breaks the limit.
			for j := 0; j <= room; j++ {
				d.readByte()
			}
			return buf, false
		}
		buf = append(buf, p[:i]...)
		d.note(p[:i])
		d.r.Discard(i)
		if i < len(p) {
			return buf, true
		}
	}
}

// note counts octets consumed in bulk into the line length and the tail.
func (d *Decoder) note(p []byte) {
	if len(p) > tailSize {
		d.lineLen += len(p) - tailSize
		p = p[len(p)-tailSize:]
	}
	for _, b := range p {
		d.tail[d.lineLen%tailSize] = b
		d.lineLen++
	}
}

// run reads a non-empty run of octets in class; it returns false,
// consuming nothing, when the next octet is not in class.
func (d *Decoder) run(class *[256]bool) (string, bool) {
	b, ok := d.peekByte()
	if !ok || !class[b] {
		return "", false
	}
	buf, ok := d.scan(class, d.scratch[:0])
	d.scratch = buf[:0]
	if !ok {
		return "", false
	}
	return string(buf), true
}

// SP reads a space.
func (d *Decoder) SP() bool { return d.Special(' ') }

// ExpectSP reads a space or records an error.
func (d *Decoder) ExpectSP() bool {
	return d.SP() || d.err == nil && d.expected("SP")
}

// CRLF reads the end of the command line (RFC 3501 §9 CRLF).
func (d *Decoder) CRLF() bool {
	if d.err != nil {
		return false
	}
	p, err := d.r.Peek(2)
	if len(p) == 0 || p[0] != '\r' {
		if len(p) == 0 && err != nil {
			d.setIOErr(err)
		}
		return false
	}
	if len(p) < 2 {
		d.setIOErr(err)
		return false
	}
	if p[1] != '\n' {
		return false
	}
	d.readByte()
	if _, ok := d.readByte(); !ok {
		return false
	}
	d.eol = true
	return true
}

// ExpectCRLF reads the end of the command line or records an error.
func (d *Decoder) ExpectCRLF() bool {
	if d.CRLF() {
		return true
	}
	if d.err != nil {
		return false
	}
	if b, ok := d.peekByte(); ok && b == '\r' {
		return d.syntax("expected end of line, found CR without LF")
	}
	return d.expected("end of line")
}

// Special reads the single octet b (a delimiter such as "(" or "[").
func (d *Decoder) Special(b byte) bool {
	c, ok := d.peekByte()
	if !ok || c != b {
		return false
	}
	_, ok = d.readByte()
	return ok
}

// ExpectSpecial reads the octet b or records an error.
func (d *Decoder) ExpectSpecial(b byte) bool {
	return d.Special(b) || d.err == nil && d.expected(describe(b))
}

// Atom reads atom = 1*ATOM-CHAR (RFC 3501 §9). "[" is an ATOM-CHAR; use
// SectionAtom for fetch attribute names.
func (d *Decoder) Atom(s *string) bool {
	v, ok := d.run(&atomChar)
	if ok {
		*s = v
	}
	return ok
}

// ExpectAtom reads an atom or records an error.
func (d *Decoder) ExpectAtom(s *string) bool {
	return d.Atom(s) || d.err == nil && d.expected("atom")
}

// SectionAtom reads the octets of a fetch attribute name or section
// specifier (RFC 3501 §6.4.5, §9 fetch-att and section-spec): ATOM-CHARs
// other than "[", "<" and ">", so that it stops before "[", "]", "(", ")",
// "<", ">", SP and CRLF. For "BODY.PEEK[1.2.HEADER.FIELDS (From)]<0.100>"
// successive calls and Specials give "BODY.PEEK", "[", "1.2.HEADER.FIELDS",
// SP, a list, "]", "<"; the partial is read with Number, Special('.') and
// Number. "RFC822.SIZE" is one SectionAtom.
func (d *Decoder) SectionAtom(s *string) bool {
	v, ok := d.run(&sectionChar)
	if ok {
		*s = v
	}
	return ok
}

// ExpectSectionAtom is SectionAtom, recording an error when the next octet
// cannot start one (an empty section "[]" is the caller's to handle: peek
// for "]" first).
func (d *Decoder) ExpectSectionAtom(s *string) bool {
	return d.SectionAtom(s) || d.err == nil && d.expected("fetch attribute")
}

// Quoted reads quoted = DQUOTE *QUOTED-CHAR DQUOTE (RFC 3501 §9), with the
// escapes \" and \\ only; CR, LF and NUL are refused. In UTF-8 mode
// (SetUTF8) it is DQUOTE *uQUOTED-CHAR DQUOTE (RFC 6855 §3, RFC 9051 §9):
// 8-bit octets must form valid UTF-8, else the string is a syntax error
// (RFC 6855 §3 requires BAD). Outside it 8-bit octets are tolerated
// unchecked, as Dovecot does, since clients send them anyway.
func (d *Decoder) Quoted(s *string) bool {
	if !d.Special('"') {
		return false
	}
	buf := d.scratch[:0]
	defer func() { d.scratch = buf[:0] }()
	for {
		var ok bool
		if buf, ok = d.scan(&quotedChar, buf); !ok {
			return false
		}
		b, _ := d.peekByte()
		switch b {
		case '"':
			d.readByte()
			if d.utf8 && !utf8.Valid(buf) {
				return d.syntax("invalid UTF-8 in quoted string")
			}
			*s = string(buf)
			return d.err == nil
		case '\\':
			d.readByte()
			c, ok := d.peekByte()
			if !ok {
				return false
			}
			if c != '"' && c != '\\' {
				return d.syntax("invalid escape \\%s in quoted string", describe(c))
			}
			d.readByte()
			buf = append(buf, c)
		case '\r', '\n':
			return d.syntax("unterminated quoted string")
		default: // NUL
			return d.syntax("NUL in quoted string")
		}
	}
}

// ExpectQuoted reads a quoted string or records an error.
func (d *Decoder) ExpectQuoted(s *string) bool {
	return d.Quoted(s) || d.err == nil && d.expected("quoted string")
}

// String is string = quoted / literal (read into memory, MaxLiteralSize).
func (d *Decoder) String(s *string) bool {
	b, ok := d.peekByte()
	if !ok {
		return false
	}
	switch b {
	case '"':
		return d.Quoted(s)
	case '{':
		return d.literalString(s)
	}
	return false
}

// ExpectString reads a string or records an error.
func (d *Decoder) ExpectString(s *string) bool {
	return d.String(s) || d.err == nil && d.expected("string")
}

// AString is astring = 1*ASTRING-CHAR / string.
func (d *Decoder) AString(s *string) bool {
	b, ok := d.peekByte()
	if !ok {
		return false
	}
	if b == '"' || b == '{' {
		return d.String(s)
	}
	v, ok := d.run(&astringChar)
	if ok {
		*s = v
	}
	return ok
}

// ExpectAString reads an astring or records an error.
func (d *Decoder) ExpectAString(s *string) bool {
	return d.AString(s) || d.err == nil && d.expected("string")
}

// ExpectNString reads nstring = string / "NIL"; isNil reports NIL (and s
// is then "").
func (d *Decoder) ExpectNString(s *string, isNil *bool) bool {
	if d.String(s) {
		*isNil = false
		return true
	}
	if d.err != nil {
		return false
	}
	var a string
	if !d.Atom(&a) {
		return d.err == nil && d.expected("string or NIL")
	}
	if !strings.EqualFold(a, "NIL") {
		return d.syntax("expected string or NIL, found %q", a)
	}
	*s, *isNil = "", true
	return true
}

// digits reads 1*DIGIT, returning "" (consuming nothing) when the next
// octet is not a digit.
func (d *Decoder) digits() string {
	v, _ := d.run(&digitChar)
	return v
}

// Number reads number (RFC 3501 §9): an unsigned 32-bit decimal.
func (d *Decoder) Number(n *uint32) bool {
	s := d.digits()
	if s == "" {
		return false
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return d.syntax("number %s out of range", s)
	}
	*n = uint32(v)
	return true
}

// ExpectNumber reads a number or records an error.
func (d *Decoder) ExpectNumber(n *uint32) bool {
	return d.Number(n) || d.err == nil && d.expected("number")
}

// ExpectNZNumber reads nz-number = digit-nz *DIGIT (RFC 3501 §9).
func (d *Decoder) ExpectNZNumber(n *uint32) bool {
	s := d.digits()
	if s == "" {
		return d.err == nil && d.expected("non-zero number")
	}
	if s[0] == '0' {
		return d.syntax("expected non-zero number, found %q", s)
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return d.syntax("number %s out of range", s)
	}
	*n = uint32(v)
	return true
}

// Number64 reads number64 (RFC 9051 §9): a decimal of at most 2^63-1.
func (d *Decoder) Number64(n *int64) bool {
	s := d.digits()
	if s == "" {
		return false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return d.syntax("number %s out of range", s)
	}
	*n = v
	return true
}

// ExpectNumber64 reads a number64 or records an error.
func (d *Decoder) ExpectNumber64(n *int64) bool {
	return d.Number64(n) || d.err == nil && d.expected("number")
}

// ExpectNumSet reads sequence-set (RFC 3501 §9), including "*" (stored as
// 0, see imap.NumRange) and the "$" of RFC 5182, which must stand alone
// because imap.NumSet cannot mix it with numbers.
func (d *Decoder) ExpectNumSet(s *imap.NumSet) bool {
	if d.Special('$') {
		if b, ok := d.peekByte(); ok && (b == ',' || b == ':') {
			return d.syntax("\"$\" cannot be combined with other numbers in a sequence set")
		}
		*s = imap.NumSet{SearchRes: true}
		return d.err == nil
	}
	var set imap.NumSet
	for {
		var r imap.NumRange
		if !d.seqNumber(&r.Start) {
			return false
		}
		r.Stop = r.Start
		if d.Special(':') && !d.seqNumber(&r.Stop) {
			return false
		}
		set.Ranges = append(set.Ranges, r)
		if !d.Special(',') {
			break
		}
	}
	if d.err != nil {
		return false
	}
	*s = set
	return true
}

// seqNumber reads seq-number = nz-number / "*", "*" as 0.
func (d *Decoder) seqNumber(n *uint32) bool {
	if d.Special('*') {
		*n = 0
		return true
	}
	s := d.digits()
	if s == "" {
		return d.err == nil && d.expected("sequence set")
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if s[0] == '0' || err != nil {
		return d.syntax("invalid sequence number %s", s)
	}
	*n = uint32(v)
	return true
}

// ExpectList reads "(" [item *(SP item)] ")", calling item for each; item
// returns an error to stop (recorded as the decoder's error). Nesting is
// counted against MaxDepth.
func (d *Decoder) ExpectList(item func() error) bool {
	if !d.ExpectSpecial('(') {
		return false
	}
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > d.opts.MaxDepth {
		d.setErr(&LimitError{Code: imap.CodeLimit, Msg: fmt.Sprintf("lists nested deeper than %d", d.opts.MaxDepth)})
		return false
	}
	if d.Special(')') {
		return true
	}
	for {
		if err := item(); err != nil {
			d.setErr(err)
			return false
		}
		if d.err != nil {
			return false
		}
		if d.Special(')') {
			return true
		}
		if !d.SP() {
			return d.err == nil && d.expected(`SP or ")"`)
		}
	}
}

// List is ExpectList when the next byte is "(", else false.
func (d *Decoder) List(item func() error) bool {
	if b, ok := d.peekByte(); !ok || b != '(' {
		return false
	}
	return d.ExpectList(item)
}

// ExpectFlag reads flag (RFC 3501 §9): a keyword atom or "\" atom, with
// system flag case normalised (imap.CanonicalFlag).
func (d *Decoder) ExpectFlag(f *imap.Flag) bool {
	var a string
	if d.Special('\\') {
		if !d.Atom(&a) {
			return d.err == nil && d.expected("flag name after \"\\\"")
		}
		*f = imap.CanonicalFlag(imap.Flag(`\` + a))
		return true
	}
	if !d.Atom(&a) {
		return d.err == nil && d.expected("flag")
	}
	*f = imap.Flag(a)
	return true
}

// ExpectMailbox reads mailbox = "INBOX" / astring, decodes modified UTF-7
// (RFC 3501 §5.1.3; invalid mUTF-7 is a syntax error) and returns "INBOX"
// for any case of inbox. Names holding UTF-8 are accepted in either mode
// (see decodeMailboxName).
func (d *Decoder) ExpectMailbox(name *string) bool {
	var s string
	if !d.ExpectAString(&s) {
		return false
	}
	if strings.EqualFold(s, "INBOX") {
		*name = "INBOX"
		return true
	}
	v, reason := decodeMailboxName(s, d.utf8)
	if reason != "" {
		return d.syntax("invalid mailbox name %q: %s", s, reason)
	}
	*name = v
	return true
}

// ExpectListMailbox reads list-mailbox = 1*list-char / string (RFC 3501
// §9: astring plus "%" and "*"), mUTF-7 decoded.
func (d *Decoder) ExpectListMailbox(pattern *string) bool {
	var s string
	if !d.String(&s) {
		if d.err != nil {
			return false
		}
		var ok bool
		if s, ok = d.run(&listChar); !ok {
			return d.err == nil && d.expected("mailbox pattern")
		}
	}
	v, reason := decodeMailboxName(s, d.utf8)
	if reason != "" {
		return d.syntax("invalid mailbox pattern %q: %s", s, reason)
	}
	*pattern = v
	return true
}

// PeekByte returns the next byte without consuming it (false at EOF/error;
// an I/O error is recorded).
func (d *Decoder) PeekByte() (byte, bool) { return d.peekByte() }
