package netns

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
)

// init prepares a child started by Run before any test runs: a failure
// here would otherwise show up as confusing network errors in the test.
func init() {
	if os.Getenv(EnvInside) != "1" {
		return
	}
	if err := setup(); err != nil {
		fmt.Fprintf(os.Stderr, "%v\n", err)
		os.Exit(2)
	}
	inside = true
}

// setup checks that the namespaces are private, then bind-mounts the
// requested files and brings lo up.
func setup() error {
	var parent map[string]string
	if err := json.Unmarshal([]byte(os.Getenv(envParent)), &parent); err != nil {
		return fmt.Errorf("netns: %s=1 but no parent namespace ids (%s): not started by netns.Run", EnvInside, envParent)
	}
	ids, err := namespaceIDs()
	if err != nil {
		return err
	}
	for _, ns := range []string{"net", "mnt"} {
		if parent[ns] == "" || ids[ns] == parent[ns] {
			return fmt.Errorf("netns: %s=1 but the %s namespace is the parent's (%s): refusing to touch the host", EnvInside, ns, ids[ns])
		}
	}
	var mounts map[string]string
	if m := os.Getenv(envMounts); m != "" {
		if err := json.Unmarshal([]byte(m), &mounts); err != nil {
			return fmt.Errorf("netns: %s: %w", envMounts, err)
		}
	}
	for _, target := range slices.Sorted(maps.Keys(mounts)) {
		if err := bindMount(mounts[target], target); err != nil {
			return err
		}
	}
	return loopbackUp()
}
