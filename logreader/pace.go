package logreader

import (
	"context"
	"math/rand/v2"
	"time"
)

// SetReadEvery paces Next: once it has read everything written, it looks for more once a round
// of d (0, the default: as soon as an event says the stream changed). A reader that is behind
// is never held back. With many readers of one stream on a machine (a child per 50 subscribers),
// waking for every appended line costs far more than the line; read in rounds, the lines of a
// round cost one wake-up. Safe to call while Next runs; it applies from Next's next wait.
//
// A paced reader wakes its process once a round, and only for what the round needs:
//   - Rounds start on a grid of d with a phase fixed per process (roundPhase), so a process's
//     readers of every stream wake together, one wake-up for all of them, while processes
//     (children) are spread over the round.
//   - The poll's checks (onTick: the directory, a writer that moved on without an End marker,
//     a moved or deleted file) run once every pacedPollRounds rounds, or every Poll if that is
//     longer. They find faults, not data: a rotation is seen by its End marker.
func (r *Reader) SetReadEvery(d time.Duration) { r.readEvery.Store(int64(max(d, 0))) }

// pacedPollRounds is how many rounds a paced reader lets pass between two runs of the poll's
// checks, when that is longer than Options.Poll.
const pacedPollRounds = 10

// roundPhase places this process's rounds on the clock: see SetReadEvery.
var roundPhase = time.Duration(rand.Int64())

// pollEvery is how often the poll's checks run: Poll, or for a paced reader at most once every
// pacedPollRounds rounds.
func (r *Reader) pollEvery() time.Duration {
	return max(r.o.Poll, pacedPollRounds*time.Duration(r.readEvery.Load()))
}

// nextRound is the first start of a round of every after t.
func nextRound(t time.Time, every time.Duration) time.Time {
	phase := int64(roundPhase % every)
	n := t.UnixNano() - phase
	return time.Unix(0, n-n%int64(every)+int64(every)+phase)
}

// waitPaced sleeps until the next round after the last paced wake-up (not at all when that has
// begun: the reader is behind), then takes whatever events came meanwhile (without waiting for
// one) and lets Next look. It needs no events, so the reader lets the directory go unwatched
// (see watch.go).
func (r *Reader) waitPaced(ctx context.Context, every time.Duration) error {
	if r.sub != nil && !r.subPaused {
		r.sub.pause(true)
		r.subPaused = true
	}
	now := time.Now()
	if !r.woke.IsZero() {
		round := nextRound(r.woke, every)
		if r.roundHook != nil {
			r.roundHook(round)
			now = time.Now()
		}
		if rest := round.Sub(now); rest > 0 {
			r.timer.Reset(rest)
			select {
			case <-ctx.Done():
				r.timer.Stop()
				return ctx.Err()
			case <-r.done:
				r.timer.Stop()
				return ErrClosed
			case <-r.timer.C:
			}
			now = time.Now()
		}
	}
	r.woke = now
	if now.Sub(r.lastTick) >= r.pollEvery() {
		r.lastTick = now
		r.onTick()
	}
	if r.sub != nil {
		select {
		case <-r.sub.wake: // consumed here, or the next unpaced wait would return for old news
		default:
		}
		r.takeEvents()
	}
	return nil
}
