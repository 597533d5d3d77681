package record

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sort"
	"strconv"
	"time"

	"vigil/internal/audit"
	"vigil/internal/media"
	"vigil/internal/media/mp4"
	"vigil/internal/storage"
)

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// Recover indexes the camera's segments that were written but never
// indexed — the one open when the process died, torn in its last fragment
// — cutting each back to its last complete fragment first. It returns how
// many it indexed. Recording calls it before it starts.
func (r *Recorder) Recover(ctx context.Context, camera string) (int, error) {
	last, ok, err := r.index.Last(ctx, camera)
	if err != nil {
		return 0, err
	}
	// Unindexed segments start after the last indexed one: list only its
	// day's directory and the later ones (all of them for a new camera).
	prefixes := []string{camera + "/"}
	if ok {
		prefixes = prefixes[:0]
		end := r.opts.Now().UTC().AddDate(0, 0, 1)
		for d := last.Start.UTC(); !d.After(end) && len(prefixes) < 400; d = d.AddDate(0, 0, 1) {
			prefixes = append(prefixes, camera+"/"+d.Format("20060102")+"/")
		}
	}
	var keys []string
	for _, p := range prefixes {
		ks, err := r.store.List(ctx, p)
		if err != nil {
			return 0, fmt.Errorf("recover %s: %w", camera, err)
		}
		keys = append(keys, ks...)
	}
	type pending struct {
		key string
		seq int64
	}
	var todo []pending
	for _, k := range keys {
		if seq, ok := keySeq(k); ok && seq > last.Seq {
			todo = append(todo, pending{k, seq})
		}
	}
	sort.Slice(todo, func(i, j int) bool { return todo[i].seq < todo[j].seq })
	n := 0
	for _, p := range todo {
		seg, err := r.repair(ctx, p.key)
		if err != nil {
			return n, fmt.Errorf("recover %s: %w", camera, err)
		}
		if seg == nil {
			continue
		}
		if err := r.index.Append(ctx, seg); err != nil {
			return n, fmt.Errorf("recover %s: %w", camera, err)
		}
		r.opts.Log.Warn("record: recovered a segment after an unclean stop", "camera", camera, "key", p.key, "end", seg.End)
		n++
	}
	return n, nil
}

// repair reads an unindexed segment, truncates a torn tail to the last
// complete fragment, and returns its index row (without chain fields).
// It returns nil when the file holds no complete fragment: such a file is
// quarantined — moved under storage.QuarantinePrefix, kept, audited as
// "record.quarantine" and counted by Verify — never deleted: only the
// retention engine deletes footage (RET-4).
func (r *Recorder) repair(ctx context.Context, key string) (*Segment, error) {
	obj, err := r.store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	size := obj.Size()
	f, ferr := mp4.ReadFile(obj, size)
	var seg *Segment
	if ferr == nil {
		seg, ferr = segmentOf(f, key)
	}
	obj.Close()
	if ferr != nil {
		q, ok := r.store.(storage.Quarantiner)
		if !ok {
			return nil, fmt.Errorf("repair %s: %w; the store cannot quarantine it", key, ferr)
		}
		to, err := q.Quarantine(ctx, key)
		if err != nil {
			return nil, err
		}
		if r.audit != nil {
			if _, err := r.audit.Append(ctx, audit.Entry{Actor: audit.System, Action: "record.quarantine", Object: "segment:" + key, Outcome: audit.OK,
				Details: map[string]any{"key": key, "quarantined_as": to, "bytes": size, "reason": ferr.Error()}}); err != nil {
				r.opts.Log.Error("record: audit a quarantined segment", "key", key, "err", err)
			}
		}
		r.opts.Log.Warn("record: quarantined a segment without a complete fragment", "key", key, "as", to, "reason", ferr)
		return nil, nil
	}
	if f.ValidSize < size {
		tr, ok := r.store.(storage.Truncater)
		if !ok {
			return nil, fmt.Errorf("repair %s: the store cannot truncate a torn segment", key)
		}
		if err := tr.Truncate(ctx, key, f.ValidSize); err != nil {
			return nil, err
		}
	}
	seg.Bytes = f.ValidSize
	if seg.Hash, err = r.hashObject(ctx, key); err != nil {
		return nil, err
	}
	return seg, nil
}

// segmentOf derives a segment's row from its file.
func segmentOf(f *mp4.File, key string) (*Segment, error) {
	vt := -1
	for i, t := range f.Tracks {
		if t.Codec.IsVideo() {
			vt = i
			break
		}
	}
	if vt < 0 || len(f.Tracks[vt].Samples) == 0 {
		return nil, errors.New("no complete video fragment")
	}
	ud := f.UserData
	seq, err1 := strconv.ParseInt(ud["vigil.seq"], 10, 64)
	start, err2 := strconv.ParseInt(ud["vigil.start"], 10, 64)
	if err1 != nil || err2 != nil || ud["vigil.camera"] == "" {
		return nil, errors.New("no vigil user data")
	}
	t := f.Tracks[vt]
	ls := t.Samples[len(t.Samples)-1]
	st := time.UnixMicro(start).UTC()
	end := st.Add(media.Duration(ls.DTS+int64(ls.Duration), t.ClockRate)).Truncate(time.Microsecond)
	return &Segment{CameraID: ud["vigil.camera"], Seq: seq, StreamID: ud["vigil.stream"], Start: st, End: end,
		Codec: string(t.Codec), Width: t.Width, Height: t.Height, Key: key}, nil
}

// hashObject hashes a stored object's bytes.
func (r *Recorder) hashObject(ctx context.Context, key string) (string, error) {
	return hashObject(ctx, r.store, r.index, key)
}

func hashObject(ctx context.Context, st storage.Store, x *Index, key string) (string, error) {
	obj, err := st.Open(ctx, key)
	if err != nil {
		return "", err
	}
	defer obj.Close()
	h := x.NewHash()
	if _, err := io.Copy(h, io.NewSectionReader(obj, 0, obj.Size())); err != nil {
		return "", fmt.Errorf("hash %s: %w", key, err)
	}
	return hexSum(h), nil
}
