// Package integration holds end-to-end tests of the postern binary with
// real clients (go-imap's imapclient, Python's imaplib, curl) over real
// TCP and TLS on loopback. It has no code of its own: the tests build
// ./cmd/postern once, start `postern serve --demo` on ephemeral ports and
// compare what the clients read with the demo messages byte for byte.
//
// Set POSTERN_SKIP_PROGRAMS=1 to skip the tests that need python3 or curl
// on a machine without them; otherwise a missing program fails the test.
package integration
