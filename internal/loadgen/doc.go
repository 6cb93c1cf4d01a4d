// Package loadgen is Postern's IMAP load generator, the engine of `postern
// bench` (issue 7): N concurrent simulated clients, each logged in as one
// of M users, run a weighted mix of IMAP4rev1 commands (RFC 3501 §6) over
// plain TCP, implicit TLS (RFC 8314 §3.3) or STARTTLS (RFC 3501 §6.2.1) for
// a set duration, against any IMAP server.
//
// It is a client of its own over net and crypto/tls, with no dependency on
// Postern's server packages, so the same figures can be taken against
// Dovecot. Responses are read exactly (literals by their octet count, RFC
// 3501 §4.3) and checked: a tagged NO or BAD, a FETCH that returns fewer
// messages than asked, a SEARCH with something other than numbers, an
// APPEND without APPENDUID when UIDPLUS (RFC 4315 §3) is advertised are
// all errors, so a server that answers fast but wrongly does not win.
//
// Latencies go into log-linear histograms of bounded size (about 3%
// precision, HDR-style), shared by all clients of a run.
package loadgen
