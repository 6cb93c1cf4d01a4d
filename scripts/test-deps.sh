#!/usr/bin/env bash
# Installs the real programs Postern's integration tests run, on Debian or
# Ubuntu, as root. It installs only what is missing, so running it again is
# cheap. Without root (or without apt-get) it says what is missing and fails;
# POSTERN_SKIP_PROGRAMS=1 lets `go test` skip the tests that need them.
#
#   python3, curl, openssl client programs (imaplib, curl imap://, s_client)
#   xinetd                 inetd mode under xinetd
#   openbsd-inetd          inetd mode under inetd; it conflicts with xinetd as a
#                          package, so it is unpacked into /opt/openbsd-inetd
#                          (the tests look there) instead of installed
#   netbase                /etc/services, where imapd looks up the imaps port
#   systemd                systemd-socket-activate, for the socket-activation tests
#   util-linux             unshare, for the private network namespaces
#   libpam0g-dev           PAM headers, for the `pam` build tag's tests
#   passwd                 useradd/chpasswd/chage: tests make real system accounts
#   uw-mailutils           UW's own mailutil, to check mbox files both ways
#   liblockfile-bin        dotlockfile, the setgid-mail locker for /var/mail
#   sslscan                scans the TLS ports: versions, cipher suites, certificate
#   gcc                    cgo, for `go build -race` (the stress test's servers)
set -euo pipefail

inetd_dir=/opt/openbsd-inetd
missing=()
command -v python3 >/dev/null || missing+=(python3)
command -v curl >/dev/null || missing+=(curl)
command -v openssl >/dev/null || missing+=(openssl)
[ -x /usr/sbin/xinetd ] || missing+=(xinetd)
[ -f /etc/services ] || missing+=(netbase)
command -v systemd-socket-activate >/dev/null || missing+=(systemd)
command -v unshare >/dev/null || missing+=(util-linux)
[ -f /usr/include/security/pam_appl.h ] || missing+=(libpam0g-dev)
command -v useradd >/dev/null || missing+=(passwd)
command -v mailutil >/dev/null || missing+=(uw-mailutils)
command -v dotlockfile >/dev/null || missing+=(liblockfile-bin)
command -v sslscan >/dev/null || missing+=(sslscan)
command -v gcc >/dev/null || missing+=(gcc)
need_inetd=0
command -v inetd >/dev/null || [ -x "$inetd_dir/usr/sbin/inetd" ] || need_inetd=1

if [ ${#missing[@]} -eq 0 ] && [ $need_inetd -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "test-deps: missing ${missing[*]} $([ $need_inetd -eq 1 ] && echo openbsd-inetd);" \
    "run this script as root on Debian, or install them by hand" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# policy-rc.d 101: packages must not start their daemons (xinetd) here;
# the tests run private instances.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e $policy ]; then
  printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy && made_policy=1
fi
trap '[ $made_policy -eq 1 ] && rm -f $policy' EXIT
if [ ${#missing[@]} -gt 0 ]; then
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [ $need_inetd -eq 1 ]; then
  # openbsd-inetd's libraries, then the package unpacked, not installed.
  apt-get install -y -q --no-install-recommends libbsd0 libevent-2.1-7 libwrap0 libtirpc3
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download openbsd-inetd)
  mkdir -p "$inetd_dir"
  dpkg-deb -x "$tmp"/openbsd-inetd_*.deb "$inetd_dir"
  rm -rf "$tmp"
fi
