package sim

import (
	"testing"
	"time"

	"vigil/internal/media/rtsp"
)

// TestParseFault: every field-camera fault of issue 10 has a `vigil sim
// --fault` mode, and a wrong one is refused. // MED-1, MED-4, RET-3
func TestParseFault(t *testing.T) {
	var f rtsp.Faults
	for _, v := range []string{"loss=1", "ts-jump=10s", "clock-rate=1000", "ssrc-every=5s", "bad-header", "stale-nonce=20s", "burst=2.5s/10s"} {
		if err := ParseFault(&f, v); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
	}
	want := rtsp.Faults{DropPercent: 1, ReorderPercent: 1, TimestampJump: 10 * time.Second, ClockRate: 1000, SSRCEvery: 5 * time.Second,
		BadHeader: true, StaleNonce: 20 * time.Second, Burst: 2500 * time.Millisecond, BurstEvery: 10 * time.Second}
	if f != want {
		t.Fatalf("faults %+v, want %+v", f, want)
	}
	for _, v := range []string{"nonsense", "ts-jump=soon", "loss=x"} {
		if err := ParseFault(&f, v); err == nil {
			t.Errorf("%s accepted", v)
		}
	}
}
