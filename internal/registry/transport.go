package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"vigil/internal/problem"
	"vigil/internal/store"
)

// Transports are the ways the recorder may ask a camera for RTP (MED-1).
var Transports = []string{"auto", "tcp", "udp", "multicast"}

func validTransport(t string) bool {
	for _, v := range Transports {
		if t == v {
			return true
		}
	}
	return false
}

// storeTransport sets a camera's transport when in is not nil, and returns
// the change for the history.
func (s *Service) storeTransport(ctx context.Context, tx *store.Tx, id string, in *string) ([][3]string, error) {
	if in == nil {
		return nil, nil
	}
	if !validTransport(*in) {
		return nil, invalid("registry.bad_transport", "transport", problem.P{"value": *in})
	}
	var old string
	if err := tx.QueryRow(ctx, `SELECT transport FROM cameras WHERE id = ?`, id).Scan(&old); err != nil {
		return nil, fmt.Errorf("load transport of camera %s: %w", id, err)
	}
	if old == *in {
		return nil, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE cameras SET transport = ? WHERE id = ?`, *in, id); err != nil {
		return nil, fmt.Errorf("store transport of camera %s: %w", id, err)
	}
	return [][3]string{{"transport", old, *in}}, nil
}

// Transport returns how the recorder is to ask camera id for RTP: auto,
// tcp, udp or multicast.
func (s *Service) Transport(ctx context.Context, id string) (string, error) {
	var t string
	if err := s.db.QueryRow(ctx, `SELECT transport FROM cameras WHERE id = ?`, id).Scan(&t); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", store.ErrNotFound
		}
		return "", err
	}
	return t, nil
}
