package config

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEListsEveryKey keeps the README's configuration table in step
// with Keys: each key has a row, with the default Keys gives.
func TestREADMEListsEveryKey(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{} // key -> its row
	for _, l := range strings.Split(string(b), "\n") {
		if k, ok := strings.CutPrefix(l, "| `"); ok {
			if name, _, ok := strings.Cut(k, "` |"); ok {
				rows[name] = l
			}
		}
	}
	for _, k := range Keys {
		row, ok := rows[k.Name]
		if !ok {
			t.Errorf("README has no row for configuration key %q", k.Name)
			continue
		}
		if k.Default != "" && k.Name != "listen" && !strings.Contains(row, "| `"+k.Default+"` |") {
			t.Errorf("README row for %q does not give the default `%s`:\n%s", k.Name, k.Default, row)
		}
	}
}
