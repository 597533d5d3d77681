package registry

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"vigil/internal/policy"
	"vigil/internal/store"
	"vigil/internal/store/storetest"
)

// TestOverlapHandComputed checks the sampled overlap share against shares
// computed by hand for sectors sharing an apex (REG-8):
//   - planned: azimuth 0°, FOV 90°, range 100 m, i.e. bearings −45°…45°;
//   - A: azimuth 45°, FOV 90°, range 100 → bearings 0°…90°: half of the
//     planned sector, share 0.5;
//   - B: a disc of radius 50 → (50/100)² = 0.25;
//   - A ∪ B = 0.5 + 0.25 − (A ∩ B = 0.125) = 0.625;
//   - C: 1 km away, not even a candidate.
func TestOverlapHandComputed(t *testing.T) {
	const lat, lon = 31.2304, 121.4737
	planned := Sector{Lat: lat, Lon: lon, Azimuth: 0, FOV: 90, Range: 100}
	a := Sector{Lat: lat, Lon: lon, Azimuth: 45, FOV: 90, Range: 100}
	b := Sector{Lat: lat, Lon: lon, Azimuth: 0, FOV: 360, Range: 50}
	c := Sector{Lat: lat + 0.009, Lon: lon, Azimuth: 0, FOV: 90, Range: 100}
	for _, tc := range []struct {
		name      string
		existing  map[string]Sector
		want      float64
		flagged   bool
		wantCands int
	}{
		{"none", nil, 0, false, 0},
		{"half by A", map[string]Sector{"A": a}, 0.5, true, 1},
		{"quarter by B", map[string]Sector{"B": b}, 0.25, false, 1},
		{"union A and B", map[string]Sector{"A": a, "B": b}, 0.625, true, 2},
		{"far C", map[string]Sector{"C": c}, 0, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idx := NewCoverageIndex()
			for id, s := range tc.existing {
				idx.Put(id, s)
			}
			o := idx.Overlap(planned, "", 0.3)
			if math.Abs(o.Share-tc.want) > 0.005 {
				t.Errorf("share %.4f, want %.4f", o.Share, tc.want)
			}
			if o.ErrorBound < math.Abs(o.Share-tc.want) {
				t.Errorf("error bound %.4f below actual error %.4f", o.ErrorBound, math.Abs(o.Share-tc.want))
			}
			if o.Flagged != tc.flagged || o.Candidates != tc.wantCands {
				t.Errorf("flagged %v candidates %d", o.Flagged, o.Candidates)
			}
		})
	}
	// Per-camera shares and removal from the index.
	idx := NewCoverageIndex()
	idx.Put("A", a)
	idx.Put("B", b)
	o := idx.Overlap(planned, "", 0.3)
	if len(o.Cameras) != 2 || o.Cameras[0].ID != "A" || math.Abs(o.Cameras[1].Share-0.25) > 0.005 {
		t.Errorf("cameras %+v", o.Cameras)
	}
	idx.Remove("A")
	if o := idx.Overlap(planned, "", 0.3); math.Abs(o.Share-0.25) > 0.005 || idx.Len() != 1 {
		t.Errorf("after removal share %.4f len %d", o.Share, idx.Len())
	}
	// Area coverage: a 200 m square centred on a disc of radius 50 m is
	// covered for π·50²/200² ≈ 0.196.
	idx2 := NewCoverageIndex()
	idx2.Put("B", b)
	dLat, dLon := 100/111195.0, 100/(111195.0*math.Cos(lat*math.Pi/180))
	ac := idx2.Area(lat-dLat, lon-dLon, lat+dLat, lon+dLon, 100, 100)
	if math.Abs(ac.Share-math.Pi*2500/40000) > 0.01 {
		t.Errorf("area share %.4f", ac.Share)
	}
}

func TestPointInPolygon(t *testing.T) { // REG-7
	sq := [][2]float64{{121, 31}, {122, 31}, {122, 32}, {121, 32}}
	for _, tc := range []struct {
		lat, lon float64
		in       bool
	}{{31.5, 121.5, true}, {32.5, 121.5, false}, {31.5, 120.9, false}, {31.01, 121.99, true}} {
		if got := PointInPolygon(tc.lat, tc.lon, sq); got != tc.in {
			t.Errorf("%v,%v: %v", tc.lat, tc.lon, got)
		}
	}
}

func TestCoverageCheckUsesRegistry(t *testing.T) { // REG-8
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fx := newFixture(t, db)
		f := completeFile(1, "")
		f.Lat, f.Lon, f.Azimuth, f.FOV, f.Range = 31.2304, 121.4737, fptr(45), 90, 100
		c, err := fx.reg.Register(ctx, fx.admin, CameraInput{CameraFile: f})
		if err != nil {
			t.Fatal(err)
		}
		o, err := fx.reg.CoverageCheck(ctx, fx.admin, Sector{Lat: 31.2304, Lon: 121.4737, Azimuth: 0, FOV: 90, Range: 100}, "")
		if err != nil || math.Abs(o.Share-0.5) > 0.005 || !o.Flagged || o.Cameras[0].ID != c.ID {
			t.Fatalf("check %+v %v", o, err)
		}
		// A registered camera enters the loaded index at once.
		f2 := completeFile(2, "")
		f2.Lat, f2.Lon, f2.Azimuth, f2.FOV, f2.Range = 31.2304, 121.4737, fptr(315), 90, 100
		if _, err := fx.reg.Register(ctx, fx.admin, CameraInput{CameraFile: f2}); err != nil {
			t.Fatal(err)
		}
		o, _ = fx.reg.CoverageCheck(ctx, fx.admin, Sector{Lat: 31.2304, Lon: 121.4737, Azimuth: 0, FOV: 90, Range: 100}, "")
		if math.Abs(o.Share-1) > 0.005 {
			t.Errorf("share with both %.4f", o.Share)
		}
		nobody := &policy.Subject{UserID: "n", Name: "n"}
		if _, err := fx.reg.CoverageCheck(ctx, nobody, Sector{Lat: 31.2304, Lon: 121.4737, FOV: 90, Range: 100}, ""); err == nil {
			t.Error("a subject without camera permissions ran a coverage check")
		}
	})
}

// cityIndex fills an index with n cameras spread over a 30 km square.
func cityIndex(n int) *CoverageIndex {
	r := rand.New(rand.NewPCG(1, 2))
	idx := NewCoverageIndex()
	for i := 0; i < n; i++ {
		idx.Put(string(rune(i))+"-"+time.Duration(i).String(), Sector{
			Lat: 31.1 + r.Float64()*0.27, Lon: 121.3 + r.Float64()*0.31,
			Azimuth: r.Float64() * 360, FOV: 30 + r.Float64()*90, Range: 30 + r.Float64()*120})
	}
	return idx
}

// BenchmarkOverlap100k: the overlap check of one planned camera against
// 100,000 existing ones (target < 50 ms per check; REG-8).
func BenchmarkOverlap100k(b *testing.B) {
	idx := cityIndex(100000)
	r := rand.New(rand.NewPCG(3, 4))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		idx.Overlap(Sector{Lat: 31.1 + r.Float64()*0.27, Lon: 121.3 + r.Float64()*0.31, Azimuth: 90, FOV: 90, Range: 150}, "", 0.3)
	}
}
