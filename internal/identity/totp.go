package identity

import (
	"context"
	"crypto/subtle"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"vigil/internal/audit"
	"vigil/internal/policy"
	"vigil/internal/problem"
	"vigil/internal/store"
)

// TOTP parameters: RFC 6238 defaults, which every authenticator app reads.
const (
	totpPeriod = 30
	totpSkew   = 1 // one step either side, for clock drift
)

// TOTPEnrolment is the secret of a TOTP enrolment being set up: shown once,
// as a QR code (URL) or typed in (Secret).
type TOTPEnrolment struct {
	Secret string `json:"secret"`
	URL    string `json:"url"` // otpauth://totp/…
}

func totpAAD(userID string) string { return "user:" + userID + ":totp" }

// matchTOTP checks code against u's secret at now and returns the time
// step it matched. A step at or before the last one used is refused, so
// a code cannot be replayed inside its window.
func (s *Service) matchTOTP(u User, code string, now time.Time) (int64, bool) {
	if u.totpSecret == "" {
		return 0, false
	}
	secret, err := s.kr.Open(u.totpSecret, totpAAD(u.ID))
	if err != nil {
		return 0, false
	}
	return matchCode(secret, strings.TrimSpace(code), now, u.totpLastStep)
}

func matchCode(secret, code string, now time.Time, lastStep int64) (int64, bool) {
	if len(code) != 6 {
		return 0, false
	}
	cur := now.Unix() / totpPeriod
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		step := cur + d
		if step <= lastStep {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0),
			totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

func requireSession(subj *policy.Subject) error {
	if subj == nil || subj.TokenID != "" {
		return problem.Forbidden("auth.session_required", nil)
	}
	return nil
}

// StartTOTP begins the subject's TOTP enrolment: a new secret, sealed and
// stored but not yet in force until ConfirmTOTP. Starting again replaces
// an unconfirmed secret; with TOTP on, it is refused (disable first).
func (s *Service) StartTOTP(ctx context.Context, subj *policy.Subject) (TOTPEnrolment, error) {
	if err := requireSession(subj); err != nil {
		return TOTPEnrolment{}, err
	}
	var out TOTPEnrolment
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := s.userTx(ctx, tx, "u.id = ?", subj.UserID)
		if err != nil {
			return err
		}
		if u.TOTPEnabled {
			return problem.Conflict("totp.already_enabled", nil)
		}
		key, err := totp.Generate(totp.GenerateOpts{Issuer: s.opts.TOTPIssuer, AccountName: u.Username,
			Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return wrap("generate TOTP secret", err)
		}
		sealed, err := s.kr.Seal(key.Secret(), totpAAD(u.ID))
		if err != nil {
			return wrap("seal TOTP secret", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET totp_secret_enc = ?, totp_enabled = FALSE, totp_last_step = 0, updated_at = ? WHERE id = ?`,
			sealed, store.Micros(s.now()), u.ID); err != nil {
			return wrap("store TOTP secret", err)
		}
		out = TOTPEnrolment{Secret: key.Secret(), URL: key.URL()}
		_, err = s.log.AppendTx(ctx, tx, audit.Entry{Actor: actorOf(subj), Action: "totp.enrol", Object: "user:" + u.ID,
			Details: map[string]any{"stage": "start"}})
		return err
	})
	return out, err
}

// ConfirmTOTP turns TOTP on once the subject proves, with a current code,
// that its authenticator holds the enrolled secret.
func (s *Service) ConfirmTOTP(ctx context.Context, subj *policy.Subject, code string) error {
	if err := requireSession(subj); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := s.userTx(ctx, tx, "u.id = ?", subj.UserID)
		if err != nil {
			return err
		}
		if u.TOTPEnabled {
			return problem.Conflict("totp.already_enabled", nil)
		}
		if u.totpSecret == "" {
			return problem.Conflict("totp.not_started", nil)
		}
		step, ok := s.matchTOTP(u, code, s.now())
		if !ok {
			return problem.Invalid("totp.bad_code", "code", nil)
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET totp_enabled = TRUE, totp_last_step = ?, updated_at = ? WHERE id = ?`,
			step, store.Micros(s.now()), u.ID); err != nil {
			return wrap("enable TOTP", err)
		}
		_, err = s.log.AppendTx(ctx, tx, audit.Entry{Actor: actorOf(subj), Action: "totp.enrol", Object: "user:" + u.ID,
			Details: map[string]any{"stage": "confirm"}})
		return err
	})
}

// DisableTOTP turns the subject's TOTP off, given a current code.
func (s *Service) DisableTOTP(ctx context.Context, subj *policy.Subject, code string) error {
	if err := requireSession(subj); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := s.userTx(ctx, tx, "u.id = ?", subj.UserID)
		if err != nil {
			return err
		}
		if !u.TOTPEnabled {
			return problem.Conflict("totp.not_enabled", nil)
		}
		if _, ok := s.matchTOTP(u, code, s.now()); !ok {
			return problem.Invalid("totp.bad_code", "code", nil)
		}
		return s.clearTOTP(ctx, tx, subj, u.ID, "self")
	})
}

// ResetTOTP turns a user's TOTP off for someone who lost their
// authenticator (same authority as resetting the password).
func (s *Service) ResetTOTP(ctx context.Context, subj *policy.Subject, userID string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := s.userTx(ctx, tx, "u.id = ?", userID)
		if err != nil {
			return err
		}
		if err := s.checkUserAdmin(ctx, tx, subj, u); err != nil {
			return err
		}
		return s.clearTOTP(ctx, tx, subj, u.ID, "admin")
	})
}

func (s *Service) clearTOTP(ctx context.Context, tx *store.Tx, subj *policy.Subject, userID, by string) error {
	if _, err := tx.Exec(ctx, `UPDATE users SET totp_enabled = FALSE, totp_secret_enc = '', updated_at = ? WHERE id = ?`,
		store.Micros(s.now()), userID); err != nil {
		return wrap("disable TOTP", err)
	}
	_, err := s.log.AppendTx(ctx, tx, audit.Entry{Actor: actorOf(subj), Action: "totp.disable", Object: "user:" + userID,
		Details: map[string]any{"by": by}})
	return err
}
