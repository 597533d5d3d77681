package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"vigil/internal/problem"
	"vigil/internal/store"
)

// ONVIFInput is where a camera's ONVIF device service answers and the
// account PTZ commands use (MED-3). In a CameraInput, nil keeps what is
// stored; an empty URL clears the settings. Password nil keeps the stored
// password (an edit of the address need not re-enter it); the password is
// sealed with the keyring and never returned.
type ONVIFInput struct {
	URL      string  `json:"url"`      // device service, e.g. http://192.168.1.64/onvif/device_service
	Username string  `json:"username"` // WS-Security UsernameToken user
	Password *string `json:"password,omitempty"`
}

// validate checks the address: an absolute http or https URL without
// credentials in it (they belong in Username and Password, where the
// password is sealed).
func (in *ONVIFInput) validate() error {
	in.URL = strings.TrimSpace(in.URL)
	in.Username = strings.TrimSpace(in.Username)
	bad := func(field, detail string) error {
		return invalid("registry.bad_onvif", "onvif."+field, problem.P{"field": "onvif." + field, "detail": detail})
	}
	if in.URL == "" {
		return nil
	}
	u, err := url.Parse(in.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return bad("url", fmt.Sprintf("%q is not an http or https address of an ONVIF device service", in.URL))
	case u.User != nil:
		return bad("url", "put the ONVIF user name and password in their own fields, not in the address")
	case len(in.URL) > 500:
		return bad("url", "the address is longer than 500 characters")
	case utf8.RuneCountInString(in.Username) > 100 || !utf8.ValidString(in.Username):
		return bad("username", "the user name is longer than 100 characters or not UTF-8")
	case in.Password != nil && len(*in.Password) > 200:
		return bad("password", "the password is longer than 200 bytes")
	}
	return nil
}

func onvifAAD(id string) string { return "cameras.onvif_password:" + id }

// storeONVIF writes in to camera id inside tx and returns the history
// entry for it (nil when in is nil). The password is sealed.
func (s *Service) storeONVIF(ctx context.Context, tx *store.Tx, id string, in *ONVIFInput) ([][3]string, error) {
	if in == nil {
		return nil, nil
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	var oldURL, oldUser string
	if err := tx.QueryRow(ctx, `SELECT onvif_url, onvif_user FROM cameras WHERE id = ?`, id).Scan(&oldURL, &oldUser); err != nil {
		return nil, fmt.Errorf("load ONVIF settings of camera %s: %w", id, err)
	}
	q := `UPDATE cameras SET onvif_url = '', onvif_user = '', onvif_password_enc = ''`
	var args []any
	if in.URL != "" {
		q = `UPDATE cameras SET onvif_url = ?, onvif_user = ?`
		args = []any{in.URL, in.Username}
		if in.Password != nil {
			enc, err := s.sealONVIF(id, *in.Password)
			if err != nil {
				return nil, err
			}
			q += `, onvif_password_enc = ?`
			args = append(args, enc)
		}
	}
	if _, err := tx.Exec(ctx, q+` WHERE id = ?`, append(args, id)...); err != nil {
		return nil, fmt.Errorf("store ONVIF settings of camera %s: %w", id, err)
	}
	if (oldURL == in.URL && oldUser == in.Username && in.Password == nil) || (oldURL == "" && in.URL == "") {
		return nil, nil
	}
	// The password itself never enters the history.
	now := describeONVIF(in.URL, in.Username)
	if in.URL != "" && in.Password != nil {
		now += ", password set"
	}
	return [][3]string{{"onvif", describeONVIF(oldURL, oldUser), now}}, nil
}

// describeONVIF is the history's value of the ONVIF settings: the address
// and the user, never the password.
func describeONVIF(url, user string) string {
	if url == "" {
		return ""
	}
	return url + " (user " + user + ")"
}

func (s *Service) sealONVIF(id, password string) (string, error) {
	if password == "" {
		return "", nil
	}
	if s.keyring == nil {
		return "", fmt.Errorf("seal the ONVIF password of camera %s: no keyring", id)
	}
	enc, err := s.keyring.Seal(password, onvifAAD(id))
	if err != nil {
		return "", fmt.Errorf("seal the ONVIF password of camera %s: %w", id, err)
	}
	return enc, nil
}

// ONVIF returns camera id's ONVIF device service address, user name and
// password (unsealed), for the PTZ resolver — never for an API answer; an
// empty url when the camera has none, store.ErrNotFound when there is no
// such camera. It does not check permissions: the gate decides before a
// PTZ command reaches this.
func (s *Service) ONVIF(ctx context.Context, id string) (url, user, pass string, err error) {
	var enc string
	err = s.db.QueryRow(ctx, `SELECT onvif_url, onvif_user, onvif_password_enc FROM cameras WHERE id = ?`, id).Scan(&url, &user, &enc)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", "", store.ErrNotFound
	}
	if err != nil {
		return "", "", "", fmt.Errorf("load ONVIF settings of camera %s: %w", id, err)
	}
	if enc == "" {
		return url, user, "", nil
	}
	if s.keyring == nil {
		return "", "", "", fmt.Errorf("unseal the ONVIF password of camera %s: no keyring", id)
	}
	if pass, err = s.keyring.Open(enc, onvifAAD(id)); err != nil {
		return "", "", "", fmt.Errorf("unseal the ONVIF password of camera %s: %w", id, err)
	}
	return url, user, pass, nil
}
