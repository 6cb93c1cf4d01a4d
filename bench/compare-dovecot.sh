#!/usr/bin/env bash
# compare-dovecot.sh: Postern against Dovecot, side by side on this machine
# (issue 7, scope items 2 and 3).
#
# Runs a private Dovecot (bench/dovecot/dovecot.conf: its own base_dir,
# loopback high port, passwd-file users, Maildir, fsync defaults, auth cache)
# and Postern in daemon mode (bench/postern/postern.conf: virtual users on
# Maildir), with the same users and the same SHA512-CRYPT hashes, loads the
# same mail into both, then measures each figure on Postern and on Dovecot
# alternately (A B A B, --pairs times) with `postern bench`, and writes a
# table of medians and ratios to bench/results/YYYY-MM-DD.md (-2, -3... for
# later runs that day; or --out).
# Postern in inetd mode under a private xinetd, and on the mbox store, are
# measured beside (mixed profile, no target).
#
# Needs root (Dovecot's master and xinetd start as root; mail belongs to a
# dedicated unprivileged user, postern-bench, created if missing; Postern
# runs as that user), Go, Python 3, and Debian's archive for dovecot-imapd
# and xinetd when they are missing. Under 15 minutes on 2 cores; --quick is
# a ~2-minute smoke run (smaller mailboxes, one pair, short runs).
#
# Usage: bench/compare-dovecot.sh [--quick] [--pairs N] [--out FILE] [--keep]
#                                  [--dovecot-fast-login]
#   --quick    smoke run: one pair, 2 s runs, 10,000-message big mailbox...
#   --pairs N  A B pairs per figure (default 3; --quick: 1)
#   --out FILE results file (default bench/results/YYYY-MM-DD.md, or the
#              first free YYYY-MM-DD-N.md of the day; with
#              --quick: the run directory's results.md)
#   --keep     keep the run directory (mailboxes, logs, JSON) at the end
#   --dovecot-fast-login  Dovecot's "high-performance" login mode
#              (imap-login service_count = 0, process_min_avail = 2) instead
#              of Debian's default one process per connection being logged in
# Environment: BENCH_PORT_BASE (default 31140: ports BASE+3..BASE+6 on
# 127.0.0.1, which must be free), BENCH_DIR (parent of the run directory,
# default /tmp).
#
# Users: mail is owned by two dedicated system users, postern-bench
# (Postern's Maildirs; Postern runs as it) and postern-bench-dc (Dovecot's),
# apart so that neither server's inotify instances count against the
# other's per-user limit. The mbox figure needs system accounts (Postern's
# mbox store serves /etc/passwd users only): postern-mbox1..10, with the
# same SHA512-CRYPT password, locked again at the end. All are created when
# missing and kept.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "compare-dovecot: $*" >&2; exit 1; }
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

QUICK=0 KEEP=0 OUT="" PAIRS="" FASTLOGIN=0
while (($#)); do
	case $1 in
	--quick) QUICK=1 ;;
	--keep) KEEP=1 ;;
	--dovecot-fast-login) FASTLOGIN=1 ;;
	--pairs) PAIRS=${2:?--pairs N}; shift ;;
	--out) OUT=${2:?--out FILE}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown argument $1 (--help)" ;;
	esac
	shift
done

[[ $(id -u) == 0 ]] || die "run as root: Dovecot's master and xinetd start as root (mail is owned by an unprivileged user)"
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUSER=postern-bench    # Postern's mail
DUSER=postern-bench-dc # Dovecot's mail
MUSER=postern-mbox     # postern-mbox1..10: system accounts for the mbox store
BASE=${BENCH_PORT_BASE:-31140}
PPORT=$((BASE + 3)) # Postern daemon, Maildir
DPORT=$((BASE + 4)) # Dovecot
MPORT=$((BASE + 5)) # Postern daemon, mbox
XPORT=$((BASE + 6)) # xinetd running Postern's imapd
NUSERS=10           # load1..load10 for mixed, logins, append and idle
PASSWORD=secret

if ((QUICK)); then
	PAIRS=${PAIRS:-1} DUR=2s SDUR=2s BIG=5000 SEARCHN=1000 BODIES=100 MESSAGES=20
	IDLE_P=300 IDLE_D=50 IDLE_WAIT=30 APPEND_DUR=2s
else
	# The full run: about 10 minutes of measurement plus setup.
	PAIRS=${PAIRS:-3} DUR=8s SDUR=3s BIG=100000 SEARCHN=10000 BODIES=1000 MESSAGES=50
	# 10,000 Dovecot imap processes would need some 40 GB of RSS (4 MB
	# each), and Dovecot logs in a few connections a second when they all
	# come at once on a loaded 2-core machine (a process started per login,
	# then one per session): its per-connection figure is taken at 300, or
	# what is connected after IDLE_WAIT seconds. One process per
	# connection, so it scales linearly.
	IDLE_P=10000 IDLE_D=200 IDLE_WAIT=90 APPEND_DUR=8s
fi

# --- programs -------------------------------------------------------------

# apt_install installs Debian packages without starting their system
# services (policy-rc.d 101 refuses every service start during the install):
# the benchmark's instances are private ones.
apt_install() {
	log "installing $*"
	local policy=/usr/sbin/policy-rc.d made=0
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2 ||
		{ apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2; }
	((made)) && rm -f "$policy"
	return 0
}
command -v dovecot >/dev/null && [[ -x /usr/lib/dovecot/imap ]] || apt_install dovecot-imapd
command -v xinetd >/dev/null || apt_install xinetd
for p in go python3 openssl setpriv ss; do command -v $p >/dev/null || die "$p is missing"; done
for u in $BUSER $DUSER $(for i in $(seq 1 $NUSERS); do echo $MUSER$i; done); do
	id -u "$u" >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin "$u"
done
BUID=$(id -u $BUSER) BGID=$(id -g $BUSER)
DUID=$(id -u $DUSER) DGID=$(id -g $DUSER)
for p in $PPORT $DPORT $MPORT $XPORT; do
	[[ -z $(ss -Hltn "sport = :$p") ]] || die "port $p on this machine is in use (BENCH_PORT_BASE chooses others)"
done

# 10,000 connections: a descriptor each on both sides, plus the mail. The
# soft limit goes up to the hard one (raising that needs CAP_SYS_RESOURCE,
# which containers often lack); the IDLE figure shrinks to fit if need be.
ulimit -n "$(ulimit -Hn)"
if (($(ulimit -n) < IDLE_P + 1000)); then
	IDLE_P=$(($(ulimit -n) - 1000))
	log "open files limited to $(ulimit -n): $IDLE_P IDLE connections to Postern"
fi

DIR=$(mktemp -d "${BENCH_DIR:-/tmp}/postern-bench.XXXXXX")
chmod 755 "$DIR"
RES=$DIR/results
mkdir -p "$RES" "$DIR/bin"
# cleanup stops what this script started and is still running: its own
# background jobs (the servers, and whatever was under way), by pid.
cleanup() {
	local pids
	pids=$(jobs -pr)
	if [[ -n $pids ]]; then
		kill $pids 2>/dev/null || true
		wait $pids 2>/dev/null || true
	fi
	# The mbox figure's system accounts get a password only for the run.
	for i in $(seq 1 $NUSERS); do usermod -L "$MUSER$i" 2>/dev/null || true; done
	if ((KEEP)); then log "run directory kept: $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT

log "building postern and imapd"
(cd "$REPO" && go build -o "$DIR/bin/" ./cmd/postern ./cmd/imapd)
BENCH=$DIR/bin/postern

# render copies a configuration template, filling in the run's values.
render() {
	sed -e "s|@DIR@|$DIR|g" -e "s|@UID@|$DUID|g" -e "s|@GID@|$DGID|g" \
		-e "s|@USER@|$BUSER|g" -e "s|@PORT@|$3|g" "$1" >"$2"
}

# --- users: the same names, passwords and hashes for every server ----------
#
# SHA512-CRYPT (crypt(3) "$6$", 5000 rounds): both Dovecot's passwd-file
# and Postern's virtual passwd file check it natively, and it is Dovecot
# 2.3's documented strong default. BLF-CRYPT (bcrypt, cost 10: some 50 ms a
# check) would turn the logins figure into a measure of bcrypt on 2 cores.
USERS=(big search bodies)
for i in $(seq 1 $NUSERS); do USERS+=("load$i"); done
mkdir -p "$DIR"/{postern,dovecot,inetd,mbox,xinetd}
for u in "${USERS[@]}"; do
	hash=$(openssl passwd -6 "$PASSWORD")
	for s in postern dovecot inetd; do
		mkdir -p "$DIR/$s/home/$u"
		uid=$BUID gid=$BGID
		[[ $s == dovecot ]] && uid=$DUID gid=$DGID
		echo "$u:{SHA512-CRYPT}$hash:$uid:$gid::$DIR/$s/home/$u::" >>"$DIR/$s/passwd"
	done
done
for i in $(seq 1 $NUSERS); do
	usermod -p "$(openssl passwd -6 "$PASSWORD")" $MUSER$i
	mkdir -p "$DIR/mbox/$MUSER$i/mail" && : >"$DIR/mbox/$MUSER$i/INBOX"
	chown -R "$MUSER$i:" "$DIR/mbox/$MUSER$i"
done

chown -R "$BUSER:$BUSER" "$DIR"/{postern,inetd,xinetd}
chown -R "$DUSER:$DUSER" "$DIR/dovecot"

# --- the large mailboxes: one Maildir generated on disk (in the background,
# while the servers are populated: nothing is measured then), hard-linked
# into each server's (both only rename message files, never rewrite them)
log "generating the mailboxes: $BIG messages, $SEARCHN messages, $BODIES of 100 KiB"
(
	python3 "$REPO/bench/gen-maildir.py" "$DIR/corpus/big" "$BIG" 1024
	python3 "$REPO/bench/gen-maildir.py" "$DIR/corpus/search" "$SEARCHN" 3072 2
	python3 "$REPO/bench/gen-maildir.py" "$DIR/corpus/bodies" "$BODIES" 102400 3
) &
GENPID=$!

# --- servers ---------------------------------------------------------------

render "$REPO/bench/dovecot/dovecot.conf" "$DIR/dovecot/dovecot.conf" $DPORT
render "$REPO/bench/postern/postern.conf" "$DIR/postern/postern.conf" $PPORT
render "$REPO/bench/postern/postern-mbox.conf" "$DIR/mbox/postern.conf" $MPORT
render "$REPO/bench/postern/postern-inetd.conf" "$DIR/inetd/postern.conf" $XPORT
render "$REPO/bench/xinetd/xinetd.conf" "$DIR/xinetd/xinetd.conf" $XPORT
if ((FASTLOGIN)); then
	printf 'service imap-login {\n  service_count = 0\n  process_min_avail = 2\n}\n' >>"$DIR/dovecot/dovecot.conf"
fi
mkdir -p "$DIR/dovecot/run" "$DIR/dovecot/state"
chown root:root "$DIR/dovecot/run" "$DIR/dovecot/state"

# wait_port waits until something accepts on 127.0.0.1:$1.
wait_port() {
	local i
	for i in $(seq 1 300); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	die "nothing listens on 127.0.0.1:$1 after 30 s"
}

start_postern() { # CONF PORT [root]: starts a daemon, sets SPID (setpriv execs: the daemon's pid)
	if [[ ${3:-} == root ]]; then
		"$BENCH" serve -c "$1" &
	else
		setpriv --reuid "$BUID" --regid "$BGID" --clear-groups "$BENCH" serve -c "$1" &
	fi
	SPID=$!
	wait_port "$2"
}
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

log "starting Dovecot on 127.0.0.1:$DPORT and Postern on 127.0.0.1:$PPORT"
dovecot -F -c "$DIR/dovecot/dovecot.conf" &
DPID=$!
wait_port $DPORT
start_postern "$DIR/postern/postern.conf" $PPORT
PPID_=$SPID
log "starting Postern under xinetd on 127.0.0.1:$XPORT, Postern on the mbox store on 127.0.0.1:$MPORT"
xinetd -dontfork -f "$DIR/xinetd/xinetd.conf" -pidfile "$DIR/xinetd/pid" &
XPID=$!
wait_port $XPORT
start_postern "$DIR/mbox/postern.conf" $MPORT root
MBPID=$SPID

port_of() {
	case $1 in postern) echo $PPORT ;; dovecot) echo $DPORT ;; mbox) echo $MPORT ;; xinetd) echo $XPORT ;; esac
}

# bench FIGURE SERVER RUN ARGS...: one `postern bench` run, its JSON kept
# as RES/FIGURE.SERVER.RUN.json. A run that cannot start is logged and
# leaves no JSON (the table shows "-"), so one failure does not lose the
# rest of the comparison.
bench() {
	local fig=$1 srv=$2 run=$3
	shift 3
	if ! "$BENCH" bench --addr "127.0.0.1:$(port_of "$srv")" --quiet \
		--json "$RES/$fig.$srv.$run.json" "$@" >"$RES/$fig.$srv.$run.txt" 2>&1; then
		log "FAILED: $fig on $srv (run $run): $(tail -n 3 "$RES/$fig.$srv.$run.txt")"
		rm -f "$RES/$fig.$srv.$run.json"
	fi
}

# pairs FIGURE ARGS...: A B A B: Postern then Dovecot, --pairs times.
pairs() {
	local fig=$1 i
	shift
	log "$fig: $PAIRS pairs"
	for i in $(seq 1 "$PAIRS"); do
		# sync first: an fsync waits for the device's queue, so dirty
		# data left by the run before (the other server's, or loading the
		# mailboxes) would otherwise be written back during this one.
		sync
		bench "$fig" postern "$i" "$@"
		sync
		bench "$fig" dovecot "$i" "$@"
	done
}

# --messages: the loadgen's generated corpus (1 to 200 KiB, some multipart),
# the same seed for every server: --populate APPENDs it, APPEND sends it.
LOAD=(--users "load%d:$PASSWORD" --nusers $NUSERS --messages $MESSAGES)
MLOAD=(--users "$MUSER%d:$PASSWORD" --nusers $NUSERS --messages $MESSAGES)
populate() { # SERVER [USERS...]: the loadgen corpus (100 messages, 1-200 KiB) into load1..10's INBOX
	local srv=$1
	shift
	log "populating the users' INBOX on $srv (APPEND)"
	(($#)) || set -- "${LOAD[@]}"
	bench populate "$srv" 0 "$@" --populate --clients 1 --command NOOP --duration 1s
}

{
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "quick=$QUICK"
	echo "pairs=$PAIRS"
	echo "duration=$DUR"
	echo "nproc=$(nproc)"
	echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
	echo "kernel=$(uname -sr)"
	echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "dovecot=$(dovecot --version)$( ((FASTLOGIN)) && echo ', high-performance login mode' || echo ', default login mode (a process per login)')"
	echo "xinetd=$(dpkg-query -W -f '${Version}' xinetd 2>/dev/null || echo '?')"
	echo "go=$(go version | cut -d' ' -f3-)"
	echo "postern=$(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?')"
	echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "big=$BIG"
	echo "searchn=$SEARCHN"
	echo "bodies=$BODIES"
	echo "idle_postern=$IDLE_P"
	echo "idle_dovecot=$IDLE_D"
} >"$RES/meta"

# Populating is not measured: the four servers at once, beside the
# generation of the large mailboxes.
populate postern &
POP=($!)
populate dovecot &
POP+=($!)
populate xinetd &
POP+=($!)
populate mbox "${MLOAD[@]}" &
POP+=($!)
wait "${POP[@]}"
wait $GENPID || die "generating the mailboxes failed"
for u in big search bodies; do
	cp -al "$DIR/corpus/$u" "$DIR/postern/home/$u/Maildir"
	cp -al "$DIR/corpus/$u" "$DIR/dovecot/home/$u/Maildir"
	chown -R "$BUSER:$BUSER" "$DIR/postern/home/$u/Maildir"
	chown -R "$DUSER:$DUSER" "$DIR/dovecot/home/$u/Maildir"
done

# --- mixed, logins ------------------------------------------------------------

pairs mixed10 "${LOAD[@]}" --profile mixed --clients 10 --duration $DUR
pairs mixed50 "${LOAD[@]}" --profile mixed --clients 50 --duration $DUR
pairs logins "${LOAD[@]}" --profile logins --clients 10 --duration $DUR

# --- the big mailbox: the first SELECT indexes it (timed once per server
# by first-select.py, before any other client opens it), then A B pairs of
# a later SELECT (the run's connection) and UID FETCH 1:* (FLAGS) ---------
log "big mailbox ($BIG messages): first SELECT"
for s in postern dovecot; do
	ms=$(python3 "$REPO/bench/first-select.py" 127.0.0.1 "$(port_of $s)" big "$PASSWORD") ||
		{ log "FAILED: first SELECT on $s"; ms=""; }
	echo "first_select_${s}_ms=$ms" >>"$RES/meta"
done
pairs big --users "big:$PASSWORD" --clients 1 --command 'UID FETCH 1:* (FLAGS)' --duration $SDUR

# --- SEARCH over the 10,000 messages. The warm-up (unmeasured, its report
# kept as searchwarm.SERVER.0.txt) is the first SELECT and one SEARCH
# SUBJECT, after which both servers answer header searches from their
# caches (Dovecot's dovecot.index.cache, Postern's header cache), as they
# do for a mailbox a client searched before; the pairs measure that. ----
for s in postern dovecot; do
	bench searchwarm $s 0 --users "search:$PASSWORD" --clients 1 --timeout 10m --command 'SEARCH SUBJECT quarterly' --duration 1s
done
pairs searchsubject --users "search:$PASSWORD" --clients 1 --command 'SEARCH SUBJECT quarterly' --duration $SDUR
pairs searchbody --users "search:$PASSWORD" --clients 1 --command 'SEARCH BODY zeppelin' --duration $SDUR

# --- FETCH of whole 100 KiB bodies (PEEK: every run does the same work, no
# \Seen changes after the first) -----------------------------------------
for s in postern dovecot; do
	bench bodieswarm $s 0 --users "bodies:$PASSWORD" --clients 1 --timeout 10m --command NOOP --duration 1s
done
pairs bodies --users "bodies:$PASSWORD" --clients 1 --command 'FETCH 1:* (BODY.PEEK[])' --duration $SDUR

# --- APPEND, fsync'd by both: 10 clients, the loadgen corpus ------------------
pairs append "${LOAD[@]}" --profile append --clients 10 --duration $APPEND_DUR

# --- memory per connection in IDLE ----------------------------------------

# rss_kib PID...: the sum of VmRSS, in KiB. pss_kib: the sum of Pss (shared
# pages divided among the processes sharing them).
rss_kib() {
	local p s=0 v
	for p in "$@"; do
		v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
		s=$((s + ${v:-0}))
	done
	echo $s
}
pss_kib() {
	local p s=0 v
	for p in "$@"; do
		v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || true)
		s=$((s + ${v:-0}))
	done
	echo $s
}
# procs SERVER: the server's processes: Postern's daemon; Dovecot's master
# and all its children (imap, imap-login, auth, config, log, anvil, stats).
procs() {
	case $1 in
	postern) echo "$PPID_" ;;
	dovecot) echo "$DPID" $(pgrep -P "$DPID" || true) ;;
	esac
}
established() { ss -Htn state established "( sport = :$1 )" | wc -l; }

idle_memory() { # SERVER N
	local srv=$1 n=$2 port before_rss before_pss after_rss after_pss bpid i got=0
	port=$(port_of "$srv")
	log "IDLE memory: $n connections to $srv"
	before_rss=$(rss_kib $(procs "$srv"))
	before_pss=$(pss_kib $(procs "$srv"))
	"$BENCH" bench --addr "127.0.0.1:$port" --json "$RES/idle.$srv.1.json" \
		"${LOAD[@]}" --profile idle --clients "$n" --duration 10m --idle 10m --timeout 5m \
		>"$RES/idle.$srv.1.txt" 2>&1 &
	bpid=$!
	# Wait until the load tool's progress line counts n clients in IDLE
	# (logged in, INBOX selected, the server's "+ idling" read), or
	# IDLE_WAIT seconds. Counting established connections was too early:
	# the server accepts them at once and logs them in over seconds
	# (SHA512-CRYPT), so the memory of sessions still logging in was read,
	# and the figure moved with how many had got through.
	for i in $(seq 1 $((IDLE_WAIT * 2))); do
		got=$({ grep -a 'idling$' "$RES/idle.$srv.1.txt" 2>/dev/null || true; } | tail -n 1 | awk '{print $(NF-1)}')
		got=${got:-0}
		((got >= n)) && break
		kill -0 $bpid 2>/dev/null || break
		sleep 0.5
	done
	sleep 3 # the servers' last writes (IDLE's continuation) settle
	after_rss=$(rss_kib $(procs "$srv"))
	after_pss=$(pss_kib $(procs "$srv"))
	echo "idle_${srv}_conns=$got" >>"$RES/meta"
	echo "idle_${srv}_rss_before=$before_rss" >>"$RES/meta"
	echo "idle_${srv}_rss_after=$after_rss" >>"$RES/meta"
	echo "idle_${srv}_pss_before=$before_pss" >>"$RES/meta"
	echo "idle_${srv}_pss_after=$after_pss" >>"$RES/meta"
	# The clients are killed, not logged out: 10,000 orderly LOGOUTs took
	# the load tool minutes (it stopped some 12 a second), and dropped
	# connections are what a server must clean up anyway. Then wait for
	# the server to have closed them all, so the next figure starts clean.
	kill -KILL $bpid 2>/dev/null || true
	wait $bpid 2>/dev/null || true
	for i in $(seq 1 120); do
		(($(established "$port") == 0)) && break
		sleep 0.5
	done
}
idle_memory postern "$IDLE_P"
idle_memory dovecot "$IDLE_D"

# --- beside: Postern under xinetd, and on the mbox store (mixed, 10 clients) --

log "mixed, 10 clients: Postern under xinetd, Postern on the mbox store"
for i in $(seq 1 "$PAIRS"); do bench mixed10 xinetd "$i" "${LOAD[@]}" --profile mixed --clients 10 --duration $DUR; done
stop_pid $XPID

for i in $(seq 1 "$PAIRS"); do bench mixed10 mbox "$i" "${MLOAD[@]}" --profile mixed --clients 10 --duration $DUR; done
stop_pid $MBPID

echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RES/meta"

# --- the table -------------------------------------------------------------
if [[ -z $OUT ]]; then
	if ((QUICK)); then
		OUT=$DIR/results.md
	else
		# A second run on the same day gets YYYY-MM-DD-2.md, and so on:
		# a run never overwrites the results of an earlier one.
		OUT=$REPO/bench/results/$(date -u +%F).md
		n=2
		while [[ -e $OUT || -e ${OUT%.md}-runs ]]; do
			OUT=$REPO/bench/results/$(date -u +%F)-$n.md
			n=$((n + 1))
		done
	fi
fi
python3 "$REPO/bench/summarize.py" "$RES" >"$OUT"
# Each run's full report (per command: rate, p50/p99, errors) beside the
# table, for finding where the time goes.
if ((!QUICK)) && [[ $OUT == "$REPO/bench/results/"* ]]; then
	runs=${OUT%.md}-runs
	rm -rf "$runs" && mkdir -p "$runs" && cp "$RES"/*.txt "$RES/meta" "$runs/"
fi
cat "$OUT"
log "results written to $OUT"
