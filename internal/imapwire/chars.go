package imapwire

// Octet classes of RFC 3501 §9, as lookup tables indexed by octet.
var (
	atomChar    [256]bool // ATOM-CHAR
	astringChar [256]bool // ASTRING-CHAR = ATOM-CHAR / resp-specials
	listChar    [256]bool // list-char = ATOM-CHAR / list-wildcards / resp-specials
	sectionChar [256]bool // ATOM-CHAR except "[", "<", ">" (see SectionAtom)
	quotedChar  [256]bool // octets a quoted string holds unescaped
	digitChar   [256]bool // DIGIT
	dateChar    [256]bool // octets of an unquoted date-text
)

func init() {
	for c := 0x21; c < 0x7f; c++ {
		switch c {
		case '(', ')', '{', '%', '*', '"', '\\', ']':
		default:
			atomChar[c] = true
		}
	}
	astringChar = atomChar
	astringChar[']'] = true
	listChar = astringChar
	listChar['%'], listChar['*'] = true, true
	sectionChar = atomChar
	sectionChar['['], sectionChar['<'], sectionChar['>'] = false, false, false
	for c := 1; c < 256; c++ {
		switch c {
		case '"', '\\', '\r', '\n':
		default:
			quotedChar[c] = true
		}
	}
	for c := '0'; c <= '9'; c++ {
		digitChar[c], dateChar[c] = true, true
	}
	for c := 'a'; c <= 'z'; c++ {
		dateChar[c], dateChar[c-'a'+'A'] = true, true
	}
	dateChar['-'] = true
}
