package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/store"
)

// AttachmentStore keeps the bytes of archive documents under a key. The
// registry keeps their metadata; a store for S3 can replace DirStore.
type AttachmentStore interface {
	Put(ctx context.Context, key string, data []byte) error
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// DirStore stores attachments as files under Dir (the data directory's
// attachments/); a file appears whole or not at all.
type DirStore struct{ Dir string }

func (d DirStore) path(key string) (string, error) {
	if key == "" || strings.ContainsAny(key, `/\.`) {
		return "", fmt.Errorf("attachment key %q is not a plain name", key)
	}
	return filepath.Join(d.Dir, key), nil
}

// Put writes data under key.
func (d DirStore) Put(_ context.Context, key string, data []byte) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d.Dir, 0o750); err != nil {
		return fmt.Errorf("attachments dir: %w", err)
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o640); err != nil {
		return fmt.Errorf("write attachment: %w", err)
	}
	return os.Rename(tmp, p)
}

// Open reads the bytes under key.
func (d DirStore) Open(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// MaxAttachment is the largest archive document accepted (bytes).
const MaxAttachment = 20 << 20

// AttachmentKinds are the archive documents of a system (REG-10).
var AttachmentKinds = []string{"design", "construction", "inspection", "acceptance", "maintenance", "other"}

// allowedTypes are the content types, as sniffed from the bytes, that an
// archive document may have. Office files (docx, xlsx) sniff as zip.
var allowedTypes = []string{"application/pdf", "image/png", "image/jpeg", "application/zip", "text/plain; charset=utf-8"}

// Attachment is an archive document's metadata.
type Attachment struct {
	ID          string    `json:"id"`
	SystemID    string    `json:"system_id"`
	Kind        string    `json:"kind"`
	Name        string    `json:"name"`
	Size        int64     `json:"size"`
	ContentType string    `json:"content_type"`
	SHA256      string    `json:"sha256"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
}

// AddAttachment stores an archive document of a system: at most
// MaxAttachment bytes, its type sniffed from the content and checked against
// the allow-list; audited ("system.attachment").
func (s *Service) AddAttachment(ctx context.Context, subj *policy.Subject, systemID, kind, name string, r io.Reader) (*Attachment, error) {
	if !oneOf(kind, AttachmentKinds) {
		return nil, invalid("registry.bad_value", "kind", problem.P{"field": "kind"})
	}
	name = filepath.Base(strings.TrimSpace(name))
	if name == "" || name == "." || len(name) > 200 {
		return nil, invalid("registry.required", "name", problem.P{"field": "name"})
	}
	sys, err := s.getSystem(ctx, systemID)
	if err != nil {
		return nil, err
	}
	u, err := s.unit(ctx, s.db, sys.UnitID)
	if err != nil {
		return nil, err
	}
	if err := policy.Check(subj, policy.CameraAdmin, u.Path, "unit "+u.Name); err != nil {
		return nil, err
	}
	if s.files == nil {
		return nil, errors.New("no attachment store configured")
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxAttachment+1))
	if err != nil {
		return nil, fmt.Errorf("read attachment: %w", err)
	}
	if len(data) > MaxAttachment {
		e := problem.BadRequest("registry.attachment_too_large", problem.P{"limit": MaxAttachment})
		e.Status = 413
		return nil, e
	}
	if len(data) == 0 {
		return nil, invalid("registry.attachment_empty", "file", nil)
	}
	ct := http.DetectContentType(data)
	if !oneOf(ct, allowedTypes) {
		return nil, problem.Unprocessable("registry.attachment_type", problem.P{"type": ct, "allowed": "PDF, PNG, JPEG, Office (zip), plain text"})
	}
	sum := sha256.Sum256(data)
	at := &Attachment{ID: newID(), SystemID: systemID, Kind: kind, Name: name, Size: int64(len(data)), ContentType: ct,
		SHA256: hex.EncodeToString(sum[:]), CreatedAt: store.Time(store.Micros(s.now())), CreatedBy: Actor(subj).ID}
	if err := s.files.Put(ctx, at.ID, data); err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO attachments (id, system_id, kind, name, size, content_type, sha256, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, at.ID, at.SystemID, at.Kind, at.Name, at.Size, at.ContentType, at.SHA256,
			store.Micros(at.CreatedAt), at.CreatedBy); err != nil {
			return fmt.Errorf("insert attachment: %w", err)
		}
		return s.auditTx(ctx, tx, Actor(subj), "system.attachment", "system:"+systemID,
			map[string]any{"attachment": at.ID, "kind": kind, "name": name, "sha256": at.SHA256})
	})
	if err != nil {
		return nil, err
	}
	return at, nil
}

func (s *Service) attachments(ctx context.Context, systemID string) ([]Attachment, error) {
	rows, err := s.db.Query(ctx, `SELECT id, system_id, kind, name, size, content_type, sha256, created_at, created_by
		FROM attachments WHERE system_id = ? ORDER BY created_at`, systemID)
	if err != nil {
		return nil, fmt.Errorf("list attachments: %w", err)
	}
	defer rows.Close()
	out := []Attachment{}
	for rows.Next() {
		var a Attachment
		var created int64
		if err := rows.Scan(&a.ID, &a.SystemID, &a.Kind, &a.Name, &a.Size, &a.ContentType, &a.SHA256, &created, &a.CreatedBy); err != nil {
			return nil, err
		}
		a.CreatedAt = store.Time(created)
		out = append(out, a)
	}
	return out, rows.Err()
}

// OpenAttachment returns an attachment's metadata and bytes, if subj may
// read the system's unit.
func (s *Service) OpenAttachment(ctx context.Context, subj *policy.Subject, id string) (*Attachment, []byte, error) {
	var systemID string
	if err := s.db.QueryRow(ctx, `SELECT system_id FROM attachments WHERE id = ?`, id).Scan(&systemID); err != nil {
		return nil, nil, problem.NotFound("registry.attachment_not_found", problem.P{"id": id})
	}
	sys, err := s.System(ctx, subj, systemID)
	if err != nil {
		return nil, nil, err
	}
	for _, a := range sys.Attachments {
		if a.ID == id {
			rc, err := s.files.Open(ctx, id)
			if err != nil {
				return nil, nil, fmt.Errorf("open attachment %s: %w", id, err)
			}
			defer rc.Close()
			var b bytes.Buffer
			if _, err := io.Copy(&b, io.LimitReader(rc, MaxAttachment+1)); err != nil {
				return nil, nil, err
			}
			return &a, b.Bytes(), nil
		}
	}
	return nil, nil, problem.NotFound("registry.attachment_not_found", problem.P{"id": id})
}
