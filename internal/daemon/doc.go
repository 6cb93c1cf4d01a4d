// Package daemon wires Postern together: it builds the authenticator, the
// store opener, the IMAP backend and server from a config.Config, binds the
// listeners, and runs until told to stop, with graceful shutdown on SIGTERM
// and certificate reload on SIGHUP (DESIGN.md §2). It is wiring only; every
// piece it uses is tested on its own.
package daemon
