//go:build linux

package privdrop

import (
	"os"
	"slices"
	"strings"
	"testing"
)

const sampleStatus = `Name:	imapd
Umask:	0022
State:	S (sleeping)
Tgid:	4242
Uid:	1000	1000	1000	1000
Gid:	1000	1000	1000	1000
FDSize:	64
Groups:	24 29 1000 
CapInh:	0000000000000000
CapPrm:	0000000000000000
CapEff:	0000000000000000
`

func TestParseStatus(t *testing.T) {
	ids, err := parseStatus(sampleStatus)
	want := threadIDs{uids: [4]int{1000, 1000, 1000, 1000}, gids: [4]int{1000, 1000, 1000, 1000}, groups: []int{24, 29, 1000}, capEff: "0000000000000000", capPrm: "0000000000000000"}
	if err != nil || ids.uids != want.uids || ids.gids != want.gids || !slices.Equal(ids.groups, want.groups) || ids.capEff != want.capEff || ids.capPrm != want.capPrm {
		t.Errorf("parseStatus(sample) = %+v, %v; want %+v, nil", ids, err, want)
	}
	for _, bad := range []string{
		strings.Replace(sampleStatus, "Uid:\t1000\t1000\t1000\t1000", "Uid:\t1000\t1000\t1000", 1),
		strings.Replace(sampleStatus, "Gid:\t1000", "Gid:\tx", 1),
		strings.Replace(sampleStatus, "Groups:\t24", "Groups:\tz", 1),
		strings.Replace(sampleStatus, "CapEff:", "CapEffX:", 1),
		strings.Replace(sampleStatus, "CapEff:", "Uid:\t1\t1\t1\t1\nCapEffX:", 1), // repeated Uid, no CapEff
		"",
	} {
		if ids, err := parseStatus(bad); err == nil {
			t.Errorf("parseStatus(%q) = %+v, nil; want an error", bad, ids)
		}
	}
	// The running kernel's own format parses.
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc:", err)
	}
	if _, err := parseStatus(string(data)); err != nil {
		t.Errorf("parseStatus(/proc/self/status) = %v", err)
	}
}

// FuzzParseStatus checks that any status text either fails or gives four
// uids and four gids.
func FuzzParseStatus(f *testing.F) {
	f.Add(sampleStatus)
	f.Add("Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\nCapEff:\t1\nCapPrm:\t1\n")
	f.Fuzz(func(t *testing.T, data string) {
		ids, err := parseStatus(data)
		if err != nil {
			return
		}
		if !strings.Contains(data, "Uid:") || !strings.Contains(data, "Gid:") {
			t.Fatalf("parseStatus(%q) = %+v without Uid and Gid lines", data, ids)
		}
	})
}
