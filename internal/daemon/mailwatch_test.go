package daemon

import (
	"testing"

	"github.com/postern/postern/internal/config"
	"github.com/postern/postern/internal/mailstore/fswatch"
)

// TestMailWatch: mail_watch = poll gives the stores a watcher that polls
// even where inotify works (NFS), shared by every store; inotify leaves
// the stores' default.
func TestMailWatch(t *testing.T) {
	cfg := config.Default()
	if w := mailWatcher(cfg); w != nil {
		t.Errorf("mail_watch = inotify: watcher %p, want nil (the stores' default)", w)
	}
	cfg.MailWatch = config.MailWatchPoll
	w := mailWatcher(cfg)
	if w == nil || w != mailWatcher(cfg) {
		t.Fatalf("mail_watch = poll: watchers %p and %p, want one shared watcher", w, mailWatcher(cfg))
	}
	sub, err := w.Watch([]fswatch.Target{{Dir: t.TempDir()}}, make(chan struct{}, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if !sub.Polling() {
		t.Error("mail_watch = poll: the subscription uses inotify, want polling")
	}
}
