package record

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"vigil/internal/media/mp4"
	"vigil/internal/storage"
	"vigil/internal/store"
)

// Kinds of verification problems.
const (
	BadMissingRow  = "missing_row"  // a sequence number has no row (a removed row)
	BadChain       = "chain_broken" // prev_hash is not the previous row's hash (inserted or reordered rows)
	BadRowAltered  = "row_altered"  // the row's own fields do not match its chain hash
	BadOrder       = "out_of_order" // start times do not follow sequence order
	BadFileMissing = "file_missing" // the segment's object is gone
	BadFileAltered = "file_altered" // the object's bytes do not match the recorded hash
	BadFileForeign = "file_foreign" // the object's own user data names another camera, stream or number
	BadAnchor      = "anchor_mismatch"
	// BadUnaudited: a row is marked deleted but no retention.delete audit
	// entry proves it, whatever its date (footage hidden outside the
	// retention engine).
	BadUnaudited = "deleted_unaudited"
	// BadDeletedEarly: the audited deletion came before the segment was
	// past the retention the deletion states.
	BadDeletedEarly = "deleted_before_retention"
	// BadDeletedHeld: the segment was deleted while an evidence hold over
	// its span was in force.
	BadDeletedHeld = "deleted_while_held"
)

// Problem is the first (or any) bad segment Verify finds.
type Problem struct {
	CameraID string `json:"camera_id"`
	Seq      int64  `json:"seq"`
	Key      string `json:"key,omitempty"`
	Kind     string `json:"kind"`
	Detail   string `json:"detail"`
}

func (p Problem) String() string {
	return fmt.Sprintf("camera %s segment %d (%s): %s: %s", p.CameraID, p.Seq, p.Key, p.Kind, p.Detail)
}

// Report is what Verify found for one camera.
type Report struct {
	CameraID string `json:"camera_id"`
	Segments int    `json:"segments"`
	Deleted  int    `json:"deleted"`
	// Quarantined counts the camera's segments set aside unreadable by a
	// repair (kept under storage.QuarantinePrefix, audited).
	Quarantined int       `json:"quarantined"`
	Anchored    int64     `json:"anchored_seq"`
	Problems    []Problem `json:"problems"`
}

// OK reports whether nothing was wrong.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// First returns the first problem, in sequence order.
func (r *Report) First() *Problem {
	if len(r.Problems) == 0 {
		return nil
	}
	return &r.Problems[0]
}

// Verify re-hashes every kept segment of camera and checks the chain of
// its index rows, its latest audit anchor, and that every row marked
// deleted was deleted by the retention engine, audited (RET-4). Problems
// are listed in sequence order; the first names the first bad segment.
func Verify(ctx context.Context, x *Index, st storage.Store, camera string) (*Report, error) {
	rows, err := x.Chain(ctx, camera)
	if err != nil {
		return nil, err
	}
	rep := &Report{CameraID: camera, Problems: []Problem{}}
	q, err := st.List(ctx, storage.QuarantinePrefix+camera+"/")
	if err != nil {
		return nil, err
	}
	rep.Quarantined = len(q)
	add := func(s *Segment, seq int64, kind, detail string) {
		p := Problem{CameraID: camera, Seq: seq, Kind: kind, Detail: detail}
		if s != nil {
			p.Key = s.Key
		}
		rep.Problems = append(rep.Problems, p)
	}
	prevHash, prevSeq := ChainGenesis, int64(0)
	var prev *Segment
	var deleted []*Segment
	byHash := map[int64]string{}
	for i := range rows {
		s := &rows[i]
		rep.Segments++
		if s.Seq != prevSeq+1 {
			add(nil, prevSeq+1, BadMissingRow, fmt.Sprintf("rows %d to %d are missing", prevSeq+1, s.Seq-1))
		}
		if s.PrevHash != prevHash {
			add(s, s.Seq, BadChain, "prev_hash does not match the hash of the row before (a row was inserted, removed or reordered)")
		}
		if x.chainHash(s) != s.ChainHash {
			add(s, s.Seq, BadRowAltered, "the row's fields do not match its hash")
		}
		if prev != nil && s.Start.Before(prev.End.Add(-SpanTolerance)) {
			add(s, s.Seq, BadOrder, fmt.Sprintf("starts at %s, before the previous segment ends at %s", s.Start, prev.End))
		}
		if s.DeletedAt.IsZero() {
			if p := checkFile(ctx, x, st, s); p != nil {
				rep.Problems = append(rep.Problems, *p)
			}
		} else {
			rep.Deleted++
			deleted = append(deleted, s)
		}
		byHash[s.Seq] = s.ChainHash
		prevHash, prevSeq, prev = s.ChainHash, s.Seq, s
	}
	if len(deleted) > 0 {
		if err := checkDeletions(ctx, x, camera, deleted, add); err != nil {
			return nil, err
		}
	}
	anchorSeq, anchorHash, err := latestAnchor(ctx, x, camera)
	if err != nil {
		return nil, err
	}
	rep.Anchored = anchorSeq
	if anchorSeq > 0 {
		if h, ok := byHash[anchorSeq]; !ok {
			add(nil, anchorSeq, BadAnchor, "the audit log anchors a segment the index does not hold")
		} else if h != anchorHash {
			add(nil, anchorSeq, BadAnchor, "the chain hash differs from the one anchored in the audit log")
		}
	}
	sortProblems(rep.Problems)
	return rep, nil
}

func sortProblems(ps []Problem) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].Seq < ps[j-1].Seq; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

func checkFile(ctx context.Context, x *Index, st storage.Store, s *Segment) *Problem {
	p := &Problem{CameraID: s.CameraID, Seq: s.Seq, Key: s.Key}
	h, err := hashObject(ctx, st, x, s.Key)
	if errors.Is(err, storage.ErrNotFound) {
		p.Kind, p.Detail = BadFileMissing, "the segment file is missing"
		return p
	}
	if err != nil {
		p.Kind, p.Detail = BadFileMissing, err.Error()
		return p
	}
	if h != s.Hash {
		p.Kind, p.Detail = BadFileAltered, "the file's hash differs from the indexed hash"
		return p
	}
	obj, err := st.Open(ctx, s.Key)
	if err != nil {
		p.Kind, p.Detail = BadFileMissing, err.Error()
		return p
	}
	defer obj.Close()
	f, err := mp4.ReadFile(obj, obj.Size())
	if err != nil {
		p.Kind, p.Detail = BadFileAltered, err.Error()
		return p
	}
	ud := f.UserData
	if ud["vigil.camera"] != s.CameraID || ud["vigil.seq"] != strconv.FormatInt(s.Seq, 10) || ud["vigil.stream"] != s.StreamID {
		p.Kind, p.Detail = BadFileForeign, fmt.Sprintf("the file says camera %q seq %q stream %q", ud["vigil.camera"], ud["vigil.seq"], ud["vigil.stream"])
		return p
	}
	return nil
}

// latestAnchor returns the newest chain head anchored for camera.
func latestAnchor(ctx context.Context, x *Index, camera string) (int64, string, error) {
	var details string
	err := x.db.QueryRow(ctx, `SELECT details FROM audit_entries WHERE action = 'record.anchor' AND object = ? ORDER BY seq DESC LIMIT 1`,
		"camera:"+camera).Scan(&details)
	if err != nil {
		if isNoRows(err) {
			return 0, "", nil
		}
		return 0, "", fmt.Errorf("anchor of %s: %w", camera, err)
	}
	var d struct {
		Seq  int64  `json:"seq"`
		Hash string `json:"hash"`
	}
	if err := json.Unmarshal([]byte(details), &d); err != nil {
		return 0, "", fmt.Errorf("anchor of %s: %w", camera, err)
	}
	return d.Seq, d.Hash, nil
}

// deletionTolerance is how far a row's deleted_at may lie from the time
// of the audit entry that proves it: the engine writes both in one
// transaction.
const deletionTolerance = time.Minute

// checkDeletions checks that every row marked deleted was deleted by the
// retention engine, for any date (RET-4): a retention.delete audit entry of
// the camera names the row (seq, and the same file hash), was written when
// the row says it was deleted, and at that moment the segment was past the
// retention the entry states and no evidence hold over its span was in
// force. A deletion whose proof is missing — never written, or pruned with
// the audit log — is reported: the log's retention (180 days) outlives the
// footage's, so an honest deletion is always still provable.
func checkDeletions(ctx context.Context, x *Index, camera string, deleted []*Segment, add func(*Segment, int64, string, string)) error {
	type proof struct {
		hash   string
		days   int
		cutoff time.Time // what the engine deleted up to: its clock then, less the retention
	}
	rows, err := x.db.Query(ctx, `SELECT details FROM audit_entries WHERE action = 'retention.delete' AND object = ? AND outcome = 'ok'`, "camera:"+camera)
	if err != nil {
		return fmt.Errorf("audited deletions of %s: %w", camera, err)
	}
	proofs := map[int64]proof{}
	for rows.Next() {
		var details string
		if err := rows.Scan(&details); err != nil {
			rows.Close()
			return err
		}
		var d struct {
			Seq    int64  `json:"seq"`
			Hash   string `json:"hash"`
			Days   int    `json:"retention_days"`
			Cutoff string `json:"cutoff"`
		}
		if json.Unmarshal([]byte(details), &d) == nil {
			c, _ := time.Parse(time.RFC3339, d.Cutoff)
			proofs[d.Seq] = proof{hash: d.Hash, days: d.Days, cutoff: c}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	type hold struct {
		id                                   string
		start, end, created, until, released int64
	}
	var holds []hold
	hrows, err := x.db.Query(ctx, `SELECT id, start_us, end_us, created_at, until_us, released_at FROM evidence_holds WHERE camera_id = ?`, camera)
	if err != nil {
		return fmt.Errorf("holds of %s: %w", camera, err)
	}
	for hrows.Next() {
		var h hold
		if err := hrows.Scan(&h.id, &h.start, &h.end, &h.created, &h.until, &h.released); err != nil {
			hrows.Close()
			return err
		}
		holds = append(holds, h)
	}
	hrows.Close()
	if err := hrows.Err(); err != nil {
		return err
	}
	for _, s := range deleted {
		p, ok := proofs[s.Seq]
		switch {
		case !ok:
			add(s, s.Seq, BadUnaudited, "marked deleted, but the audit log has no retention deletion of it")
			continue
		case p.hash != s.Hash:
			add(s, s.Seq, BadUnaudited, "the audited retention deletion names another file (hash differs)")
			continue
		case p.days <= 0 || p.cutoff.IsZero():
			add(s, s.Seq, BadUnaudited, "the audited retention deletion states no retention or cutoff")
			continue
		}
		// The engine's clock at the deletion, as the (hash-chained) entry states it.
		moment := p.cutoff.AddDate(0, 0, p.days)
		if absDuration(moment.Sub(s.DeletedAt)) > deletionTolerance {
			add(s, s.Seq, BadUnaudited, fmt.Sprintf("marked deleted at %s, but its retention deletion was made at %s",
				s.DeletedAt.UTC().Format(time.RFC3339), moment.UTC().Format(time.RFC3339)))
			continue
		}
		// The cutoff is written to the second; the engine compared to the microsecond.
		if s.End.After(p.cutoff.Add(time.Second)) {
			add(s, s.Seq, BadDeletedEarly, fmt.Sprintf("deleted at %s, before its retention of %d days had passed (segment ends %s)",
				moment.UTC().Format(time.RFC3339), p.days, s.End.UTC().Format(time.RFC3339)))
			continue
		}
		at := store.Micros(s.DeletedAt)
		for _, h := range holds {
			inForce := h.created <= at && at < h.until && (h.released == 0 || h.released > at)
			if inForce && h.start < store.Micros(s.End) && h.end > store.Micros(s.Start) {
				add(s, s.Seq, BadDeletedHeld, fmt.Sprintf("deleted at %s while evidence hold %s was in force over it",
					s.DeletedAt.UTC().Format(time.RFC3339), h.id))
				break
			}
		}
	}
	return nil
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
