package privdrop

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// taskDir lists the process's threads (proc(5)).
const taskDir = "/proc/self/task"

// threadIDs is what one thread's /proc status says about its identity.
type threadIDs struct {
	uids, gids [4]int // real, effective, saved, filesystem
	groups     []int
	capEff     string
	capPrm     string
}

// parseStatus reads the Uid, Gid, Groups, CapEff and CapPrm lines of a
// /proc/PID/task/TID/status file.
func parseStatus(data string) (threadIDs, error) {
	var ids threadIDs
	seen := map[string]bool{}
	for line := range strings.SplitSeq(data, "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fields := strings.Fields(val)
		var err error
		switch key {
		case "Uid":
			err = parseFour(fields, &ids.uids)
		case "Gid":
			err = parseFour(fields, &ids.gids)
		case "Groups":
			for _, f := range fields {
				g, perr := strconv.Atoi(f)
				if perr != nil {
					err = perr
					break
				}
				ids.groups = append(ids.groups, g)
			}
		case "CapEff":
			ids.capEff = strings.TrimSpace(val)
		case "CapPrm":
			ids.capPrm = strings.TrimSpace(val)
		default:
			continue
		}
		if err != nil {
			return threadIDs{}, fmt.Errorf("%s line %q: %w", key, line, err)
		}
		if seen[key] {
			return threadIDs{}, fmt.Errorf("repeated %s line", key)
		}
		seen[key] = true
	}
	if len(seen) != 5 {
		return threadIDs{}, errors.New("missing Uid, Gid, Groups, CapEff or CapPrm line")
	}
	return ids, nil
}

func parseFour(fields []string, out *[4]int) error {
	if len(fields) != 4 {
		return fmt.Errorf("%d ids, want 4", len(fields))
	}
	for i, f := range fields {
		n, err := strconv.Atoi(f)
		if err != nil {
			return err
		}
		out[i] = n
	}
	return nil
}

// verifyThreads checks every thread of the process, as the kernel reports
// it, against t and groups: the per-thread credentials are what the
// kernel enforces, and a thread left behind by a non-broadcast setuid
// would keep root. Without /proc (a chroot) the check is skipped; the
// all-threads system calls still apply.
func verifyThreads(t Target, groups []int) error {
	tasks, err := os.ReadDir(taskDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("privdrop: listing threads: %w", err)
	}
	for _, task := range tasks {
		data, err := os.ReadFile(filepath.Join(taskDir, task.Name(), "status"))
		if errors.Is(err, fs.ErrNotExist) {
			continue // the thread exited meanwhile
		}
		if err != nil {
			return fmt.Errorf("privdrop: thread %s: %w", task.Name(), err)
		}
		ids, err := parseStatus(string(data))
		if err != nil {
			return fmt.Errorf("privdrop: thread %s status: %w", task.Name(), err)
		}
		want := [4]int{t.UID, t.UID, t.UID, t.UID}
		if ids.uids != want {
			return fmt.Errorf("privdrop: thread %s has uids %v after the drop, want %d", task.Name(), ids.uids, t.UID)
		}
		want = [4]int{t.GID, t.GID, t.GID, t.GID}
		if ids.gids != want {
			return fmt.Errorf("privdrop: thread %s has gids %v after the drop, want %d", task.Name(), ids.gids, t.GID)
		}
		if !sameSet(ids.groups, groups) {
			return fmt.Errorf("privdrop: thread %s has groups %v after the drop, want %v", task.Name(), ids.groups, groups)
		}
		if strings.Trim(ids.capEff, "0") != "" || strings.Trim(ids.capPrm, "0") != "" {
			return fmt.Errorf("privdrop: thread %s keeps capabilities (effective %s, permitted %s)", task.Name(), ids.capEff, ids.capPrm)
		}
	}
	return nil
}
