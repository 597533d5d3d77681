package identity

import (
	"math"
	"sync"
	"time"
)

// limiter is a set of token buckets keyed by a string (a remote address, a
// username): each holds up to burst tokens and refills burst per period.
// It lives in memory: a restart forgets it, which the account lockout,
// stored in the database, does not.
type limiter struct {
	mu      sync.Mutex
	burst   float64
	rate    float64 // tokens per second
	buckets map[string]*bucket
	sweeps  int
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(burst int, period time.Duration) *limiter {
	return &limiter{burst: float64(burst), rate: float64(burst) / period.Seconds(), buckets: map[string]*bucket{}}
}

// take spends one token of key at now. When the bucket is empty it returns
// false and how long until a token is back.
func (l *limiter) take(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = math.Min(l.burst, b.tokens+dt*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		l.sweep(now)
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

// sweep drops full buckets now and then so the map does not grow without
// bound under a spray of addresses.
func (l *limiter) sweep(now time.Time) {
	l.sweeps++
	if l.sweeps%1024 != 0 {
		return
	}
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.last) > full {
			delete(l.buckets, k)
		}
	}
}
