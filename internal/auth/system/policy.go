package system

import (
	"strings"
	"time"
)

// secondsPerDay converts Unix time to shadow(5) days since 1970-01-01 UTC.
const secondsPerDay = 24 * 60 * 60

// day returns t as shadow(5) counts days: whole days since the epoch, UTC.
func day(t time.Time) int64 {
	s := t.Unix()
	d := s / secondsPerDay
	if s < 0 && s%secondsPerDay != 0 {
		d-- // floor, not truncation, before 1970
	}
	return d
}

// lockState classifies a shadow (or passwd) password field.
type lockState int

const (
	unlocked   lockState = iota
	locked               // "!" prefix (passwd -l, usermod -L): the hash after it is kept
	noPassword           // "*", "!" or "!!" alone, or a "*"-prefixed field: no password can match
	emptyHash            // "": passwordless, which never logs in here
)

// classify splits a password field into its lock state and the hash to
// verify ("" when there is none). usermod -L puts one "!" before the hash
// and passwd -l does the same; some tools write "!!" or "*LK*", so every
// leading "!" is stripped and any "*" start means no password.
func classify(field string) (lockState, string) {
	switch {
	case field == "":
		return emptyHash, ""
	case field[0] == '*':
		return noPassword, ""
	case field[0] == '!':
		hash := strings.TrimLeft(field, "!")
		if hash == "" || hash[0] == '*' {
			return noPassword, ""
		}
		return locked, hash
	}
	return unlocked, field
}

// reason strings, logged when a login is refused; never sent to clients.
const (
	reasonUID0          = "uid 0 never logs in"
	reasonLocked        = "account locked"
	reasonNoPassword    = "account has no password (locked or never set)"
	reasonEmptyPassword = "account has an empty password"
	reasonAccountExp    = "account expired"
	reasonMustChange    = "password must be changed (last change is 0)"
	reasonPasswordExp   = "password expired"
	reasonShell         = "shell not listed in the shells file"
	reasonNoShadow      = "no shadow entry"
	reasonBadShadow     = "malformed shadow entry"
	reasonBadHash       = "unusable password hash"
)

// ageReason applies shadow(5) aging at day today, returning "" when the
// entry may log in, and whether the password is in its grace period
// (expired but still accepted, which is worth a warning).
//
// The comparisons are pam_unix's (passverify.c check_shadow_expiry), so
// that the shadow and PAM paths agree:
//   - the account is expired from the day "expire" on (so chage -E 0
//     expires it at once);
//   - a last change of 0 means the password must be changed, which a mail
//     client cannot do: refused;
//   - the password expires "max" days after the last change; shadow(5)
//     then still accepts it for "inactive" days so that the user can
//     change it at the next login; past that (or at once, when no
//     inactive period is set, as UW's ckp_sv4 and pam_unix's
//     NEW_AUTHTOK_REQD do for a program that cannot prompt) it is refused.
func ageReason(e shadowEntry, today int64) (reason string, grace bool) {
	if e.expire >= 0 && today >= e.expire {
		return reasonAccountExp, false
	}
	if e.lastChg == 0 {
		return reasonMustChange, false
	}
	if e.lastChg < 0 || e.max < 0 {
		return "", false
	}
	age := today - e.lastChg
	if age <= e.max {
		return "", false
	}
	if e.inactive >= 0 && age <= e.max+e.inactive {
		return "", true
	}
	return reasonPasswordExp, false
}
