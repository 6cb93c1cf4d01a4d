package imapbackend

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/postern/postern/internal/imap"
	"github.com/postern/postern/internal/mailstore"
)

// maxSearchWorkers bounds the goroutines one SEARCH BODY or TEXT uses: the
// work is reading and decoding files, which scales with the cores until
// the disk is the limit, and other sessions want the cores too.
const maxSearchWorkers = 4

// workers returns the evaluators of a parallel SEARCH, each with its own
// text buffers, or nil when there is one core.
func (ev *evaluator) workers() []*evaluator {
	n := min(runtime.GOMAXPROCS(0), maxSearchWorkers)
	if n < 2 {
		return nil
	}
	ws := make([]*evaluator, n)
	for i := range ws {
		w := *ev
		w.text = textSearcher{}
		ws[i] = &w
	}
	return ws
}

// evalOne evaluates one message and closes it; an expunged message (gone
// from the index or the disk meanwhile) is a non-match.
func (ev *evaluator) evalOne(ctx context.Context, criteria *imap.SearchCriteria, m *searchMsg, each func(*searchMsg) error) (bool, error) {
	ok, err := ev.match(ctx, criteria, m)
	if ok && err == nil && each != nil {
		err = each(m)
	}
	m.src.close()
	if err != nil {
		if errors.Is(err, mailstore.ErrNotExist) {
			return false, nil // expunged meanwhile
		}
		return false, err
	}
	return ok, nil
}

// evalParallel evaluates the messages of batch b with the workers, each
// taking the next message until none is left: SEARCH BODY and TEXT read
// and decode every file, and that scales with the cores (issue 7). The
// batch's metadata is loaded and its opener made before they start; what
// they share besides is read-only but for the pending cache entries
// (selected.cacheMu). The first error stops them.
func evalParallel(ctx context.Context, workers []*evaluator, b *infoBatch, criteria *imap.SearchCriteria, msgs []*searchMsg) ([]bool, error) {
	if err := b.load(ctx); err != nil {
		return nil, err
	}
	if err := b.prepareOpen(ctx); err != nil {
		return nil, err
	}
	oks := make([]bool, len(msgs))
	var (
		next     atomic.Int64
		failed   atomic.Bool
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err })
		failed.Store(true)
	}
	for _, w := range workers {
		wg.Go(func() {
			defer func() {
				if r := recover(); r != nil {
					fail(fmt.Errorf("imapbackend: panic in SEARCH worker: %v\n%s", r, debug.Stack()))
				}
			}()
			for !failed.Load() {
				i := int(next.Add(1)) - 1
				if i >= len(msgs) {
					return
				}
				ok, err := w.evalOne(ctx, criteria, msgs[i], nil)
				if err != nil {
					fail(err)
					return
				}
				oks[i] = ok
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		for _, m := range msgs {
			m.src.close() // those a stopped worker left open
		}
		return nil, firstErr
	}
	return oks, nil
}
