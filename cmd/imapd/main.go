// Command imapd is Postern's drop-in for UW imapd: started by inetd or
// xinetd with the connection on standard input and no arguments, it serves
// that one connection (implicit TLS on the imaps port of /etc/services, or
// when started as a name beginning with "s"). Started on a pipe by a user
// other than root (`ssh host imapd`, mutt's tunnel) it greets with PREAUTH
// as that user. With -l it listens by itself instead.
//
//	imapd                       inetd/xinetd mode (fd 0 is the connection), or pipe mode
//	imapd -l [::]:143 -l imaps=[::]:993   standalone listeners (service imap unless named)
//	imapd -c FILE               configuration (default /etc/postern/postern.conf;
//	                            without it, built-in defaults and UW's certificate paths)
//	imapd -tls | -notls         force implicit TLS on or off in inetd mode
package main

import (
	"os"

	"github.com/postern/postern/internal/dropin"
)

func main() {
	os.Exit(dropin.Main(dropin.IMAPD, os.Args[1:]))
}
