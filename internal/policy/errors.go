package policy

import "fmt"

// DeniedError is returned when the gate refuses. Its message says what was
// missing, so that a person knows whom to ask.
type DeniedError struct {
	Permission Permission
	Target     string // what was asked for, e.g. "unit 普陀分局" or "camera 3101…"
	Reason     string
}

func (e *DeniedError) Error() string {
	if e.Reason != "" {
		return e.Reason
	}
	return fmt.Sprintf("permission %s is needed on %s; ask an administrator of that unit for a role that carries it", e.Permission, e.Target)
}

// Check returns a *DeniedError unless s holds perm over the unit at
// unitPath. target names the object for the message.
func Check(s *Subject, perm Permission, unitPath, target string) error {
	if s.Can(perm, unitPath) {
		return nil
	}
	return &DeniedError{Permission: perm, Target: target}
}
