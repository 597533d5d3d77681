package record

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"sync"
	"time"

	"vigil/internal/keyring"
	"vigil/internal/store"
)

// ChainGenesis is the prev_hash of a camera's first segment.
const ChainGenesis = "genesis"

// Segment is one closed recording segment as indexed (RET-4).
type Segment struct {
	CameraID  string    `json:"camera_id"`
	Seq       int64     `json:"seq"`
	StreamID  string    `json:"stream_id"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Bytes     int64     `json:"bytes"`
	Codec     string    `json:"codec"`
	Width     int       `json:"width"`
	Height    int       `json:"height"`
	Key       string    `json:"-"` // storage key; not shown to clients
	Hash      string    `json:"hash"`
	PrevHash  string    `json:"prev_hash"`
	ChainHash string    `json:"chain_hash"`
	CreatedAt time.Time `json:"created_at"`
	DeletedAt time.Time `json:"deleted_at,omitzero"` // set by the retention engine
}

// Duration is the segment's span.
func (s *Segment) Duration() time.Duration { return s.End.Sub(s.Start) }

// Index is the segment index: the segments table and its per-camera hash
// chain.
type Index struct {
	db    *store.DB
	suite keyring.Suite
	now   func() time.Time

	mu   sync.Mutex
	open map[string]Segment // per camera: the segment being written, up to its last synced fragment
}

// publishOpen makes the camera's open segment visible to List up to its
// last fragment, which the recorder has written and fsynced: footage is
// playable within a fragment (≤ 1 s) of arrival, before the segment
// closes.
func (x *Index) publishOpen(s Segment) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.open == nil {
		x.open = map[string]Segment{}
	}
	x.open[s.CameraID] = s
}

// clearOpen withdraws the camera's open segment seq (it closed, was
// indexed, or was given up).
func (x *Index) clearOpen(camera string, seq int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if o, ok := x.open[camera]; ok && o.Seq == seq {
		delete(x.open, camera)
	}
}

// Open returns the camera's open segment as far as it is written (End is
// the end of its last synced fragment); ok is false when none is open.
func (x *Index) Open(camera string) (Segment, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	o, ok := x.open[camera]
	return o, ok
}

// NewIndex returns the index over db, hashing with kr's suite (SHA-256
// when kr is nil).
func NewIndex(db *store.DB, kr *keyring.Keyring) *Index {
	suite := keyring.Standard
	if kr != nil {
		suite = kr.Suite()
	}
	return NewIndexSuite(db, suite)
}

// NewIndexSuite returns the index over db hashing with suite: for tools
// that verify without the keys (vigil recordings verify).
func NewIndexSuite(db *store.DB, suite keyring.Suite) *Index {
	return &Index{db: db, suite: suite, now: time.Now}
}

// DB returns the index's database.
func (x *Index) DB() *store.DB { return x.db }

// NewHash returns the hash the index uses (SHA-256, or SM3 under crypto: sm).
func (x *Index) NewHash() hash.Hash { return keyring.NewHash(x.suite) }

// chainHash is the hash of a row: its fields and the previous row's hash.
// The deletion mark is not covered: the retention engine sets it, and
// audits each deletion.
func (x *Index) chainHash(s *Segment) string {
	h := x.NewHash()
	for _, f := range []string{s.PrevHash, s.CameraID, strconv.FormatInt(s.Seq, 10), s.StreamID,
		strconv.FormatInt(store.Micros(s.Start), 10), strconv.FormatInt(store.Micros(s.End), 10),
		strconv.FormatInt(s.Bytes, 10), s.Codec, strconv.Itoa(s.Width), strconv.Itoa(s.Height), s.Key, s.Hash} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

const segmentCols = `camera_id, seq, stream_id, start_us, end_us, bytes, codec, width, height, storage_key, hash, prev_hash, chain_hash, created_at, deleted_at`

func scanSegment(r interface{ Scan(...any) error }) (Segment, error) {
	var s Segment
	var start, end, created, deleted int64
	err := r.Scan(&s.CameraID, &s.Seq, &s.StreamID, &start, &end, &s.Bytes, &s.Codec, &s.Width, &s.Height,
		&s.Key, &s.Hash, &s.PrevHash, &s.ChainHash, &created, &deleted)
	s.Start, s.End, s.CreatedAt, s.DeletedAt = store.Time(start), store.Time(end), store.Time(created), store.Time(deleted)
	return s, err
}

// Append indexes a closed segment: s.Seq must follow the camera's last
// row. It fills PrevHash, ChainHash and CreatedAt.
func (x *Index) Append(ctx context.Context, s *Segment) error {
	return x.db.InTx(ctx, func(tx *store.Tx) error {
		prev := ChainGenesis
		last := int64(0)
		row := tx.QueryRow(ctx, `SELECT seq, chain_hash FROM segments WHERE camera_id = ? ORDER BY seq DESC LIMIT 1`+tx.ForUpdate(), s.CameraID)
		if err := row.Scan(&last, &prev); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("index segment %s/%d: %w", s.CameraID, s.Seq, err)
		}
		if s.Seq != last+1 {
			return fmt.Errorf("index segment %s/%d: the camera's last segment is %d", s.CameraID, s.Seq, last)
		}
		s.PrevHash = prev
		s.CreatedAt = x.now().UTC().Truncate(time.Microsecond)
		s.ChainHash = x.chainHash(s)
		_, err := tx.Exec(ctx, `INSERT INTO segments (`+segmentCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
			s.CameraID, s.Seq, s.StreamID, store.Micros(s.Start), store.Micros(s.End), s.Bytes, s.Codec, s.Width, s.Height,
			s.Key, s.Hash, s.PrevHash, s.ChainHash, store.Micros(s.CreatedAt))
		if err != nil {
			return fmt.Errorf("index segment %s/%d: %w", s.CameraID, s.Seq, err)
		}
		return nil
	})
}

// Last returns the camera's last indexed segment (deleted or not); ok is
// false when it has none.
func (x *Index) Last(ctx context.Context, camera string) (Segment, bool, error) {
	s, err := scanSegment(x.db.QueryRow(ctx, `SELECT `+segmentCols+` FROM segments WHERE camera_id = ? ORDER BY seq DESC LIMIT 1`, camera))
	if errors.Is(err, sql.ErrNoRows) {
		return Segment{}, false, nil
	}
	if err != nil {
		return Segment{}, false, fmt.Errorf("last segment of %s: %w", camera, err)
	}
	return s, true, nil
}

// List returns the camera's kept (not deleted) segments overlapping
// [from, to), in time order, the open segment (Open) last when it
// overlaps. It is one range scan of the (camera_id, start_us) index: a
// segment is at most MaxSegmentLength long, so only rows starting after
// from − MaxSegmentLength can overlap.
func (x *Index) List(ctx context.Context, camera string, from, to time.Time) ([]Segment, error) {
	out, err := x.listIndexed(ctx, camera, from, to)
	if err != nil {
		return nil, err
	}
	if o, ok := x.Open(camera); ok && o.Start.Before(to) && o.End.After(from) && o.End.After(o.Start) &&
		(len(out) == 0 || out[len(out)-1].Seq < o.Seq) {
		out = append(out, o)
	}
	return out, nil
}

func (x *Index) listIndexed(ctx context.Context, camera string, from, to time.Time) ([]Segment, error) {
	rows, err := x.db.Query(ctx, `SELECT `+segmentCols+` FROM segments
		WHERE camera_id = ? AND start_us >= ? AND start_us < ? AND end_us > ? AND deleted_at = 0 ORDER BY start_us`,
		camera, store.Micros(from.Add(-MaxSegmentLength)), store.Micros(to), store.Micros(from))
	if err != nil {
		return nil, fmt.Errorf("list segments of %s: %w", camera, err)
	}
	defer rows.Close()
	var out []Segment
	for rows.Next() {
		s, err := scanSegment(rows)
		if err != nil {
			return nil, fmt.Errorf("list segments of %s: %w", camera, err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Chain returns every row of the camera's chain, deleted ones included, in
// sequence order.
func (x *Index) Chain(ctx context.Context, camera string) ([]Segment, error) {
	rows, err := x.db.Query(ctx, `SELECT `+segmentCols+` FROM segments WHERE camera_id = ? ORDER BY seq`, camera)
	if err != nil {
		return nil, fmt.Errorf("chain of %s: %w", camera, err)
	}
	defer rows.Close()
	var out []Segment
	for rows.Next() {
		s, err := scanSegment(rows)
		if err != nil {
			return nil, fmt.Errorf("chain of %s: %w", camera, err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Cameras returns the ids of cameras with indexed segments.
func (x *Index) Cameras(ctx context.Context) ([]string, error) {
	rows, err := x.db.Query(ctx, `SELECT DISTINCT camera_id FROM segments ORDER BY camera_id`)
	if err != nil {
		return nil, fmt.Errorf("recorded cameras: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Gap causes (RET-5).
const (
	CauseCameraOffline = "camera_offline" // the source went away
	CauseNetwork       = "network"        // the connection failed
	CauseDisk          = "disk"           // storage full or failing
	CauseStopped       = "recorder_stopped"
	CauseUnknown       = "unknown"
	// Discontinuities: zero-length gaps where the camera's timeline was
	// corrected (MED-4, RET-3), and holes inside a stream.
	CauseTimestampJump = "timestamp_jump" // RTP time jumped; re-anchored on arrival time
	CauseClockRate     = "clock_rate"     // the SDP's clock rate was wrong; corrected
	CauseStreamRestart = "ssrc_change"    // the camera restarted its RTP stream
	CauseFramesMissing = "frames_missing" // no video for a while inside a stream
)

// causeDetail is the detail of a gap whose marker gave none: cause and
// detail are always filled (RET-5).
func causeDetail(cause string) string {
	switch cause {
	case CauseCameraOffline:
		return "the camera's stream ended or could not be reached"
	case CauseNetwork:
		return "the connection to the camera failed"
	case CauseDisk:
		return "storage refused new footage"
	case CauseStopped:
		return "the recorder was not running"
	}
	return "no further detail recorded"
}

// Gap is a span without recording and why.
type Gap struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Cause  string    `json:"cause"`
	Detail string    `json:"detail,omitempty"` // what was seen: the error, the frames missing, …
}

// OpenGap marks the start of a gap; CloseGap ends it.
func (x *Index) OpenGap(ctx context.Context, camera string, start time.Time, cause, detail string) (string, error) {
	id := keyring.RandomToken(8)
	if cause == "" {
		cause = CauseUnknown
	}
	if detail == "" {
		detail = causeDetail(cause)
	}
	_, err := x.db.Exec(ctx, `INSERT INTO recording_gaps (id, camera_id, start_us, end_us, cause, detail) VALUES (?, ?, ?, 0, ?, ?)`,
		id, camera, store.Micros(start), cause, detail)
	if err != nil {
		return "", fmt.Errorf("mark gap of %s: %w", camera, err)
	}
	return id, nil
}

// MarkGap records a closed gap [start, end] (end may equal start: a
// discontinuity inside recorded footage) with its cause and detail.
func (x *Index) MarkGap(ctx context.Context, camera string, start, end time.Time, cause, detail string) error {
	if detail == "" {
		detail = causeDetail(cause)
	}
	e := store.Micros(end)
	if e == 0 {
		e = 1 // 0 means open
	}
	_, err := x.db.Exec(ctx, `INSERT INTO recording_gaps (id, camera_id, start_us, end_us, cause, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		keyring.RandomToken(8), camera, store.Micros(start), e, cause, detail)
	if err != nil {
		return fmt.Errorf("mark gap of %s: %w", camera, err)
	}
	return nil
}

// EnsureGap makes sure camera has an open gap: one from start with cause
// and detail if none is open, else the open one takes cause and detail
// (unless it is a full disk's). A camera that never connects thus has a
// gap with a cause from the start (RET-5).
func (x *Index) EnsureGap(ctx context.Context, camera string, start time.Time, cause, detail string) error {
	var n int
	if err := x.db.QueryRow(ctx, `SELECT COUNT(*) FROM recording_gaps WHERE camera_id = ? AND end_us = 0`, camera).Scan(&n); err != nil {
		return fmt.Errorf("open gaps of %s: %w", camera, err)
	}
	if n == 0 {
		_, err := x.OpenGap(ctx, camera, start, cause, detail)
		return err
	}
	return x.NoteCause(ctx, camera, cause, detail)
}

// openGapStart returns the start of camera's earliest open gap.
func (x *Index) openGapStart(ctx context.Context, camera string) (time.Time, bool, error) {
	var us sql.NullInt64
	if err := x.db.QueryRow(ctx, `SELECT MIN(start_us) FROM recording_gaps WHERE camera_id = ? AND end_us = 0`, camera).Scan(&us); err != nil {
		return time.Time{}, false, err
	}
	if !us.Valid {
		return time.Time{}, false, nil
	}
	return store.Time(us.Int64), true, nil
}

// CloseGap ends the open gaps of camera at end, returning how many it
// closed.
func (x *Index) CloseGap(ctx context.Context, camera string, end time.Time) (int64, error) {
	res, err := x.db.Exec(ctx, `UPDATE recording_gaps SET end_us = ? WHERE camera_id = ? AND end_us = 0`, store.Micros(end), camera)
	if err != nil {
		return 0, fmt.Errorf("close gap of %s: %w", camera, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// Gaps returns the marked gaps of camera overlapping [from, to); an open
// gap ends at to.
func (x *Index) Gaps(ctx context.Context, camera string, from, to time.Time) ([]Gap, error) {
	rows, err := x.db.Query(ctx, `SELECT start_us, end_us, cause, detail FROM recording_gaps
		WHERE camera_id = ? AND start_us < ? AND (end_us = 0 OR end_us > ?) ORDER BY start_us`,
		camera, store.Micros(to), store.Micros(from))
	if err != nil {
		return nil, fmt.Errorf("gaps of %s: %w", camera, err)
	}
	defer rows.Close()
	var out []Gap
	for rows.Next() {
		var s, e int64
		var g Gap
		if err := rows.Scan(&s, &e, &g.Cause, &g.Detail); err != nil {
			return nil, err
		}
		g.Start, g.End = store.Time(s), store.Time(e)
		if e == 0 {
			g.End = to
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// Expired returns the camera's kept segments that ended at or before
// cutoff, in sequence order: the retention engine's candidates.
func (x *Index) Expired(ctx context.Context, camera string, cutoff time.Time) ([]Segment, error) {
	rows, err := x.db.Query(ctx, `SELECT `+segmentCols+` FROM segments WHERE camera_id = ? AND deleted_at = 0 AND end_us <= ? ORDER BY seq`,
		camera, store.Micros(cutoff))
	if err != nil {
		return nil, fmt.Errorf("expired segments of %s: %w", camera, err)
	}
	defer rows.Close()
	var out []Segment
	for rows.Next() {
		s, err := scanSegment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Expire marks the camera's segment seq deleted at at and, in the same
// transaction, calls also (the retention engine audits the deletion
// there). It reports false when the row was already marked. The index is
// the segments table's one writer; only the retention engine calls this
// (RET-4).
func (x *Index) Expire(ctx context.Context, camera string, seq int64, at time.Time, also func(tx *store.Tx) error) (bool, error) {
	marked := false
	err := x.db.InTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE segments SET deleted_at = ? WHERE camera_id = ? AND seq = ? AND deleted_at = 0`,
			store.Micros(at), camera, seq)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		marked = true
		return also(tx)
	})
	if err != nil {
		return false, fmt.Errorf("expire segment %s/%d: %w", camera, seq, err)
	}
	return marked, nil
}

// DeletedSince returns the storage keys of the camera's rows marked
// deleted after since.
func (x *Index) DeletedSince(ctx context.Context, camera string, since time.Time) ([]string, error) {
	rows, err := x.db.Query(ctx, `SELECT storage_key FROM segments WHERE camera_id = ? AND deleted_at > ?`, camera, store.Micros(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// KeptBytes is the size of every kept segment.
func (x *Index) KeptBytes(ctx context.Context) (int64, error) {
	var n int64
	err := x.db.QueryRow(ctx, `SELECT COALESCE(SUM(bytes), 0) FROM segments WHERE deleted_at = 0`).Scan(&n)
	return n, err
}

// Usage is a camera's recorded bytes and span over a period.
type Usage struct {
	CameraID string
	Bytes    int64
	Span     time.Duration
}

// UsageSince sums each camera's kept segments ending after since.
func (x *Index) UsageSince(ctx context.Context, since time.Time) ([]Usage, error) {
	rows, err := x.db.Query(ctx, `SELECT camera_id, SUM(bytes), SUM(end_us - start_us) FROM segments
		WHERE deleted_at = 0 AND end_us > ? GROUP BY camera_id ORDER BY camera_id`, store.Micros(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Usage
	for rows.Next() {
		var u Usage
		var us int64
		if err := rows.Scan(&u.CameraID, &u.Bytes, &us); err != nil {
			return nil, err
		}
		u.Span = time.Duration(us) * time.Microsecond
		out = append(out, u)
	}
	return out, rows.Err()
}
