package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
)

// pprofEnv names the environment variable that makes `postern serve`
// expose net/http/pprof (CPU, heap, allocation and goroutine profiles) on
// a loopback address, for profiling under load (issue 7):
//
//	POSTERN_PPROF=127.0.0.1:6060 postern serve -c postern.conf
//	go tool pprof http://127.0.0.1:6060/debug/pprof/profile?seconds=10
//
// Unset (the default) nothing is exposed. Only loopback addresses are
// accepted: profiles show mailbox names and the like.
const pprofEnv = "POSTERN_PPROF"

// startPprof serves the profiles when pprofEnv asks for them (`postern serve`
// and `postern bench`, whose own cost counts in what it measures).
func startPprof(stdout io.Writer, log *slog.Logger) error {
	addr := os.Getenv(pprofEnv)
	if addr == "" {
		return nil
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().IsLoopback() {
		return fmt.Errorf("postern: %s=%q: want a loopback HOST:PORT such as 127.0.0.1:6060", pprofEnv, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("postern: %s: %w", pprofEnv, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	fmt.Fprintf(stdout, "pprof: http://%s/debug/pprof/\n", ln.Addr())
	go func() {
		err := http.Serve(ln, mux)
		log.Error("postern: pprof server stopped", "err", err)
	}()
	return nil
}
