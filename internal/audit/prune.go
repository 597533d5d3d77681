package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"vigil/internal/store"
)

// Prune removes the entries older than retention (the profile's audit-log
// retention) and leaves a signed checkpoint at the last removed entry, so
// the remaining chain still verifies. It audits itself and reports how many
// entries it removed. A retention shorter than minRetention is refused.
func (l *Log) Prune(ctx context.Context, retention, minRetention time.Duration) (int64, error) {
	if retention < minRetention {
		return 0, fmt.Errorf("audit retention %s is shorter than the profile's minimum %s", retention, minRetention)
	}
	cutoff := l.now().Add(-retention)
	var removed int64
	err := l.db.InTx(ctx, func(tx *store.Tx) error {
		var lastSeq int64
		var lastHash string
		err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_entries WHERE at < ? ORDER BY seq DESC LIMIT 1`,
			store.Micros(cutoff)).Scan(&lastSeq, &lastHash)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // nothing old enough
		}
		if err != nil {
			return fmt.Errorf("prune audit: %w", err)
		}
		res, err := tx.Exec(ctx, `DELETE FROM audit_entries WHERE seq <= ?`, lastSeq)
		if err != nil {
			return fmt.Errorf("prune audit: %w", err)
		}
		removed, _ = res.RowsAffected()
		at := store.Micros(l.now())
		sig, err := l.kr.Sign(checkpointMessage(lastSeq, lastHash, at))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO audit_checkpoints (seq, hash, at, pruned_count, signature) VALUES (?, ?, ?, ?, ?)`,
			lastSeq, lastHash, at, removed, sig); err != nil {
			return fmt.Errorf("prune audit: checkpoint: %w", err)
		}
		_, err = l.AppendTx(ctx, tx, Entry{Actor: System, Action: "audit.prune", Object: "audit",
			Details: map[string]any{"through_seq": lastSeq, "removed": removed, "older_than": cutoff.UTC().Format(time.RFC3339)}})
		return err
	})
	return removed, err
}
