// Command ipop3d is Postern's drop-in for UW ipop3d: started by inetd or
// xinetd with the connection on standard input and no arguments, it serves
// that one POP3 connection (implicit TLS on the pop3s port of
// /etc/services, or when started as a name beginning with "s", sipop3d).
// It takes the same flags and configuration as imapd.
//
//	ipop3d                      inetd/xinetd mode (fd 0 is the connection), or pipe mode
//	ipop3d -l [::]:110 -l pop3s=[::]:995   standalone listeners (service pop3 unless named)
//	ipop3d -c FILE              configuration (default /etc/postern/postern.conf)
//	ipop3d -tls | -notls        force implicit TLS on or off in inetd mode
package main

import (
	"os"

	"github.com/postern/postern/internal/dropin"
)

func main() {
	os.Exit(dropin.Main(dropin.IPOP3D, os.Args[1:]))
}
