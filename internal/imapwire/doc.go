// Package imapwire is the IMAP grammar (RFC 3501 §9, RFC 7888 LITERAL+ and
// LITERAL-, RFC 3516 literal8, RFC 5182 "$"): a Decoder and an Encoder for
// atoms, strings, literals, lists, sequence sets, dates and modified UTF-7
// mailbox names (RFC 3501 §5.1.3). It knows no commands: policy such as
// literal limits and continuation requests comes in through DecoderOptions.
//
// The Decoder reads one command line at a time from a bufio.Reader. It
// counts the octets of a line outside literals against MaxLineLength,
// nesting against MaxDepth and in-memory literals against MaxLiteralSize,
// and reports a *LimitError when one is hit; client mistakes are
// *SyntaxError values whose text is fit for a BAD response. After either,
// DiscardLine brings the stream back to the start of the next command.
package imapwire
