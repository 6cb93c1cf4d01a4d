package auth

import (
	"testing"
)

func TestQuotaRules(t *testing.T) {
	tests := []struct {
		extra   map[string]string
		want    QuotaLimits
		wantErr bool
	}{
		{nil, QuotaLimits{-1, -1}, false},
		{map[string]string{"mail": "/x"}, QuotaLimits{-1, -1}, false},
		{map[string]string{"userdb_quota_rule": "*:storage=1G"}, QuotaLimits{1 << 30, -1}, false},
		{map[string]string{"userdb_quota_rule": "*:storage=1G", "userdb_quota_rule2": "*:messages=10000"}, QuotaLimits{1 << 30, 10000}, false},
		{map[string]string{"quota_rule": "*:storage=2048"}, QuotaLimits{2 << 20, -1}, false}, // kilobytes
		{map[string]string{"quota_rule": "*:bytes=5000"}, QuotaLimits{5000, -1}, false},
		{map[string]string{"quota_rule": "*:storage=100M:messages=5"}, QuotaLimits{100 << 20, 5}, false},
		{map[string]string{"quota_rule": "*:storage=0"}, QuotaLimits{0, -1}, false},
		{map[string]string{"quota_rule": "Trash:storage=+10%%"}, QuotaLimits{-1, -1}, false},
		{map[string]string{"quota_rule": "*:storage=10%"}, QuotaLimits{-1, -1}, true},
		{map[string]string{"quota_rule": "*:files=3"}, QuotaLimits{-1, -1}, true},
		{map[string]string{"quota_rule": "storage=3"}, QuotaLimits{-1, -1}, true},
		{map[string]string{"quota_rulex": "*:storage=3"}, QuotaLimits{-1, -1}, false},
	}
	for _, tt := range tests {
		got, err := QuotaRules(tt.extra)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("QuotaRules(%v) = %+v, %v, want %+v, error %v", tt.extra, got, err, tt.want, tt.wantErr)
		}
	}
}

// FuzzQuotaRules checks that no rule text panics and that what parses is
// never negative except the "unset" -1.
func FuzzQuotaRules(f *testing.F) {
	for _, s := range []string{"*:storage=1G", "*:messages=10", "*:bytes=1:messages=2", "Trash:ignore", "*:storage=99999999999999T", "*:", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rule string) {
		q, err := QuotaRules(map[string]string{"userdb_quota_rule": rule})
		if err == nil && (q.Storage < -1 || q.Messages < -1) {
			t.Fatalf("QuotaRules(%q) = %+v", rule, q)
		}
	})
}
