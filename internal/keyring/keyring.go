// Package keyring holds the keys Vigil keeps in its data directory and the
// cryptographic suite chosen by configuration: the standard suite
// (SHA-256, AES-256-GCM, Ed25519) or the commercial-cryptography suite
// `crypto: sm` (SM3, SM4-GCM, SM2), AUD-2.
//
// Invariants:
//   - Keys are created once, on first start, with mode 0600 under
//     DATA/keys/, and never rewritten; losing them makes encrypted columns
//     unreadable, so operators back them up with the database.
//   - The suite of a data directory is fixed when it is created: starting
//     the same directory under the other suite is refused, because every
//     stored hash and signature would stop verifying.
//   - Secrets never appear in errors or logs.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"strings"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

// Suite names a cryptographic suite.
type Suite string

const (
	Standard Suite = "standard" // SHA-256, AES-256-GCM, Ed25519
	SM       Suite = "sm"       // SM3, SM4-GCM, SM2 (GB/T 32905, 32907, 32918)
)

// ParseSuite validates a configured suite name ("" means standard).
func ParseSuite(s string) (Suite, error) {
	switch s {
	case "", "standard":
		return Standard, nil
	case "sm":
		return SM, nil
	}
	return "", fmt.Errorf("unknown crypto suite %q: use \"standard\" or \"sm\"", s)
}

// Keyring is the loaded key material of a data directory.
type Keyring struct {
	suite   Suite
	dataKey []byte // 32 bytes AES-256 or first 16 bytes for SM4
	edPriv  ed25519.PrivateKey
	smPriv  *sm2.PrivateKey
}

// Suite reports the keyring's suite.
func (k *Keyring) Suite() Suite { return k.suite }

// Open loads the keys under dir/keys, creating them on first use.
func Open(dir string, suite Suite) (*Keyring, error) {
	kd := filepath.Join(dir, "keys")
	if err := os.MkdirAll(kd, 0o700); err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	suiteFile := filepath.Join(kd, "suite")
	if b, err := os.ReadFile(suiteFile); err == nil {
		have := Suite(strings.TrimSpace(string(b)))
		if have != suite {
			return nil, fmt.Errorf("keyring: data directory was created with crypto suite %q, configuration asks for %q; "+
				"set `crypto: %s` or use a new data directory", have, suite, have)
		}
	} else if errors.Is(err, os.ErrNotExist) {
		if err := writeNew(suiteFile, []byte(string(suite)+"\n")); err != nil {
			return nil, err
		}
	} else {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	k := &Keyring{suite: suite}
	var err error
	if k.dataKey, err = loadOrCreate(filepath.Join(kd, "data.key"), func() ([]byte, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return b, err
	}); err != nil {
		return nil, err
	}
	switch suite {
	case SM:
		raw, err := loadOrCreate(filepath.Join(kd, "sign-sm2.key"), func() ([]byte, error) {
			p, err := sm2.GenerateKey(rand.Reader)
			if err != nil {
				return nil, err
			}
			return p.D.FillBytes(make([]byte, 32)), nil
		})
		if err != nil {
			return nil, err
		}
		if k.smPriv, err = sm2.NewPrivateKey(raw); err != nil {
			return nil, fmt.Errorf("keyring: sign-sm2.key: %w", err)
		}
	default:
		seed, err := loadOrCreate(filepath.Join(kd, "sign-ed25519.key"), func() ([]byte, error) {
			b := make([]byte, ed25519.SeedSize)
			_, err := rand.Read(b)
			return b, err
		})
		if err != nil {
			return nil, err
		}
		if len(seed) != ed25519.SeedSize {
			return nil, errors.New("keyring: sign-ed25519.key has the wrong length")
		}
		k.edPriv = ed25519.NewKeyFromSeed(seed)
	}
	if err := os.WriteFile(filepath.Join(kd, "sign.pub"), []byte(k.PublicKey()+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("keyring: write sign.pub: %w", err)
	}
	return k, nil
}

func writeNew(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("keyring: create %s: %w", filepath.Base(path), err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("keyring: write %s: %w", filepath.Base(path), err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func loadOrCreate(path string, gen func() ([]byte, error)) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, fmt.Errorf("keyring: %s is not hex", filepath.Base(path))
		}
		return raw, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	raw, err := gen()
	if err != nil {
		return nil, fmt.Errorf("keyring: generate %s: %w", filepath.Base(path), err)
	}
	if err := writeNew(path, []byte(hex.EncodeToString(raw)+"\n")); err != nil {
		return nil, err
	}
	return raw, nil
}

// NewHash returns a new hash of the suite (SHA-256 or SM3).
func (k *Keyring) NewHash() hash.Hash { return NewHash(k.suite) }

// NewHash returns a new hash of the given suite.
func NewHash(s Suite) hash.Hash {
	if s == SM {
		return sm3.New()
	}
	return sha256.New()
}

func (k *Keyring) aead() (cipher.AEAD, error) {
	var b cipher.Block
	var err error
	if k.suite == SM {
		b, err = sm4.NewCipher(k.dataKey[:16])
	} else {
		b, err = aes.NewCipher(k.dataKey)
	}
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// Seal encrypts plaintext bound to aad (e.g. "users.id_number:ID") and
// returns a printable string for a TEXT column. Empty plaintext seals to "".
func (k *Keyring) Seal(plaintext, aad string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	a, err := k.aead()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, a.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := a.Seal(nonce, nonce, []byte(plaintext), []byte(aad))
	return "v1:" + base64.RawStdEncoding.EncodeToString(ct), nil
}

// Open decrypts a value made by Seal with the same aad.
func (k *Keyring) Open(sealed, aad string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	rest, ok := strings.CutPrefix(sealed, "v1:")
	if !ok {
		return "", errors.New("keyring: unknown sealed format")
	}
	ct, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil {
		return "", errors.New("keyring: sealed value is not base64")
	}
	a, err := k.aead()
	if err != nil {
		return "", err
	}
	if len(ct) < a.NonceSize() {
		return "", errors.New("keyring: sealed value too short")
	}
	pt, err := a.Open(nil, ct[:a.NonceSize()], ct[a.NonceSize():], []byte(aad))
	if err != nil {
		return "", errors.New("keyring: sealed value does not decrypt (wrong key or altered)")
	}
	return string(pt), nil
}

// Sign signs msg (Ed25519, or SM2 with the default user id) and returns
// base64.
func (k *Keyring) Sign(msg []byte) (string, error) {
	if k.suite == SM {
		sig, err := k.smPriv.SignWithSM2(rand.Reader, nil, msg)
		if err != nil {
			return "", err
		}
		return base64.StdEncoding.EncodeToString(sig), nil
	}
	return base64.StdEncoding.EncodeToString(ed25519.Sign(k.edPriv, msg)), nil
}

// PublicKey returns the signing public key as "suite:base64", the form
// Verify and the offline verifiers take.
func (k *Keyring) PublicKey() string {
	if k.suite == SM {
		pub := elliptic.Marshal(k.smPriv.Curve, k.smPriv.X, k.smPriv.Y) //nolint:staticcheck // SM2 keys are not ecdh keys
		return "sm2:" + base64.StdEncoding.EncodeToString(pub)
	}
	return "ed25519:" + base64.StdEncoding.EncodeToString(k.edPriv.Public().(ed25519.PublicKey))
}

// Verify checks sig (from Sign) over msg against the keyring's public key.
func (k *Keyring) Verify(msg []byte, sig string) bool { return Verify(k.PublicKey(), msg, sig) }

// Verify checks sig over msg against a public key in PublicKey's form.
func Verify(publicKey string, msg []byte, sig string) bool {
	alg, b64, ok := strings.Cut(publicKey, ":")
	if !ok {
		return false
	}
	pub, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return false
	}
	s, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	switch alg {
	case "ed25519":
		return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, msg, s)
	case "sm2":
		pk, err := sm2.NewPublicKey(pub)
		if err != nil {
			return false
		}
		return sm2.VerifyASN1WithSM2((*ecdsa.PublicKey)(pk), nil, msg, s)
	}
	return false
}

// RandomToken returns n random bytes, hex-encoded.
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// HashToken hashes a bearer secret (session id, API token) for storage,
// so that a copy of the database does not hand out live credentials.
func HashToken(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
