package identity

import (
	"sync"
	"time"
)

// phantomLocks counts failed sign-ins for usernames that have no account
// (or no password), exactly as signInFailure counts them for real users,
// so that an unknown name is locked after LockoutAttempts in a row with an
// end time like a real one: the answers do not tell which names exist
// (ACC-2). It lives in memory, bounded; a restart forgets it.
type phantomLocks struct {
	mu    sync.Mutex
	names map[string]*phantom
}

type phantom struct {
	failures int
	until    time.Time
}

// maxPhantoms bounds the map under a spray of names; past it, entries
// neither locked nor recently failing are dropped.
const maxPhantoms = 100000

// locked returns the end of the lock of name, if one is in force at now.
func (p *phantomLocks) locked(name string, now time.Time) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e := p.names[name]; e != nil && now.Before(e.until) {
		return e.until, true
	}
	return time.Time{}, false
}

// fail counts a failure of name at now; once attempts are reached it locks
// the name for d and returns the lock's end.
func (p *phantomLocks) fail(name string, now time.Time, attempts int, d time.Duration) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.names == nil {
		p.names = map[string]*phantom{}
	}
	if len(p.names) >= maxPhantoms {
		for k, e := range p.names {
			if !now.Before(e.until) {
				delete(p.names, k)
			}
		}
	}
	e := p.names[name]
	if e == nil {
		e = &phantom{}
		p.names[name] = e
	}
	e.failures++
	if e.failures >= attempts {
		e.failures = 0
		e.until = store0(now.Add(d))
		return e.until, true
	}
	return time.Time{}, false
}

// store0 rounds t as the database stores times (microseconds), so that a
// phantom's lock end reads like a real one's.
func store0(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
