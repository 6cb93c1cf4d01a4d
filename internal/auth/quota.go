package auth

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// QuotaLimits are an account's own mail quota limits (RFC 9208 §5.1
// STORAGE in octets, §5.2 MESSAGE): -1 where the account database says
// nothing (the server's default applies), 0 for no limit.
type QuotaLimits struct {
	Storage  int64
	Messages int64
}

// QuotaRules reads the quota rules of an account's extra fields in
// Dovecot's shape, so that passwd files migrate unchanged:
//
//	userdb_quota_rule=*:storage=1G userdb_quota_rule2=*:messages=10000
//
// ("quota_rule", "quota_rule2", ... without the userdb_ prefix too). Only
// rules for "*" (the whole account) apply: Postern has one quota root per
// user. storage= takes a size in kilobytes, or with a b, k, M, G or T
// suffix; bytes= a size in octets; messages= a count; 0 means no limit, as
// in Dovecot. A relative (percent) or unknown limit is an error.
func QuotaRules(extra map[string]string) (QuotaLimits, error) {
	q := QuotaLimits{Storage: -1, Messages: -1}
	var keys []string
	for k := range extra {
		name := strings.TrimPrefix(k, "userdb_")
		if name == "quota_rule" || strings.HasPrefix(name, "quota_rule") && isDigits(name[len("quota_rule"):]) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys) // later rules win, as "quota_rule2" follows "quota_rule"
	for _, k := range keys {
		mbox, rule, ok := strings.Cut(extra[k], ":")
		if !ok {
			return q, fmt.Errorf("auth: %s=%q: want MAILBOX:LIMIT", k, extra[k])
		}
		if mbox != "*" {
			continue // per-mailbox rules: one root per user here
		}
		for _, lim := range strings.Split(rule, ":") {
			name, val, _ := strings.Cut(lim, "=")
			var err error
			switch strings.ToLower(name) {
			case "storage":
				q.Storage, err = parseSize(val, 1024)
			case "bytes":
				q.Storage, err = parseSize(val, 1)
			case "messages":
				q.Messages, err = strconv.ParseInt(val, 10, 64)
				if err == nil && q.Messages < 0 {
					err = fmt.Errorf("negative")
				}
			case "ignore", "noenforcing", "":
			default:
				err = fmt.Errorf("unknown limit %q", name)
			}
			if err != nil {
				return q, fmt.Errorf("auth: %s=%q: %w", k, extra[k], err)
			}
		}
	}
	return q, nil
}

// parseSize reads a size with an optional b/k/M/G/T suffix; a bare number
// counts units of unit octets.
func parseSize(s string, unit int64) (int64, error) {
	mult := unit
	if n := len(s); n > 0 {
		switch strings.ToUpper(s[n-1:]) {
		case "B":
			mult, s = 1, s[:n-1]
		case "K":
			mult, s = 1<<10, s[:n-1]
		case "M":
			mult, s = 1<<20, s[:n-1]
		case "G":
			mult, s = 1<<30, s[:n-1]
		case "T":
			mult, s = 1<<40, s[:n-1]
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > (1<<62)/mult {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return v * mult, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
