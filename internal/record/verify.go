package record

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

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
	// BadUnaudited: a row is marked deleted but the audit log, which
	// still covers that time, has no retention.delete entry for it
	// (footage hidden outside the retention engine).
	BadUnaudited = "deleted_unaudited"
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

// checkDeletions checks that every row marked deleted has the retention
// engine's audited deletion, as far back as the audit log reaches (older
// entries may have been pruned under the audit retention).
func checkDeletions(ctx context.Context, x *Index, camera string, deleted []*Segment, add func(*Segment, int64, string, string)) error {
	var oldest int64
	if err := x.db.QueryRow(ctx, `SELECT COALESCE(MIN(at), 0) FROM audit_entries`).Scan(&oldest); err != nil {
		return fmt.Errorf("audit coverage: %w", err)
	}
	rows, err := x.db.Query(ctx, `SELECT details FROM audit_entries WHERE action = 'retention.delete' AND object = ?`, "camera:"+camera)
	if err != nil {
		return fmt.Errorf("audited deletions of %s: %w", camera, err)
	}
	audited := map[int64]bool{}
	for rows.Next() {
		var details string
		if err := rows.Scan(&details); err != nil {
			rows.Close()
			return err
		}
		var d struct {
			Seq int64 `json:"seq"`
		}
		if json.Unmarshal([]byte(details), &d) == nil {
			audited[d.Seq] = true
		}
	}
	rows.Close()
	for _, s := range deleted {
		if !audited[s.Seq] && oldest > 0 && store.Micros(s.DeletedAt) >= oldest {
			add(s, s.Seq, BadUnaudited, "marked deleted, but the audit log has no retention deletion of it")
		}
	}
	return rows.Err()
}
