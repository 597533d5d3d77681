package registry

import "math"

// LatLon is a point in degrees.
type LatLon struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Krasovsky 1940 ellipsoid, the parameters of the GCJ-02 transform.
const (
	gcjA  = 6378245.0
	gcjEE = 0.00669342162296594323
)

// outOfChina reports whether a WGS-84 point lies outside the rough box in
// which GCJ-02 applies; there the transform is the identity.
func outOfChina(lat, lon float64) bool {
	return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271
}

// WGS84ToGCJ02 converts a WGS-84 point to GCJ-02 (国测局坐标), the datum of
// Chinese web maps, with the standard published transform.
func WGS84ToGCJ02(lat, lon float64) (float64, float64) {
	if outOfChina(lat, lon) {
		return lat, lon
	}
	dLat := transformLat(lon-105.0, lat-35.0)
	dLon := transformLon(lon-105.0, lat-35.0)
	radLat := lat / 180.0 * math.Pi
	magic := math.Sin(radLat)
	magic = 1 - gcjEE*magic*magic
	sqrtMagic := math.Sqrt(magic)
	dLat = (dLat * 180.0) / ((gcjA * (1 - gcjEE)) / (magic * sqrtMagic) * math.Pi)
	dLon = (dLon * 180.0) / (gcjA / sqrtMagic * math.Cos(radLat) * math.Pi)
	return lat + dLat, lon + dLon
}

func transformLat(x, y float64) float64 {
	ret := -100.0 + 2.0*x + 3.0*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	ret += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	ret += (20.0*math.Sin(y*math.Pi) + 40.0*math.Sin(y/3.0*math.Pi)) * 2.0 / 3.0
	ret += (160.0*math.Sin(y/12.0*math.Pi) + 320*math.Sin(y*math.Pi/30.0)) * 2.0 / 3.0
	return ret
}

func transformLon(x, y float64) float64 {
	ret := 300.0 + x + 2.0*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	ret += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	ret += (20.0*math.Sin(x*math.Pi) + 40.0*math.Sin(x/3.0*math.Pi)) * 2.0 / 3.0
	ret += (150.0*math.Sin(x/12.0*math.Pi) + 300.0*math.Sin(x/30.0*math.Pi)) * 2.0 / 3.0
	return ret
}

// earthRadius is the mean radius used by the local projection (m).
const earthRadius = 6371008.8

// projection is a local equirectangular projection around an origin: x east,
// y north, in metres. Over the few kilometres a camera sees, its distortion
// is below 0.1 %.
type projection struct {
	lat0, lon0, kx, ky float64
}

func newProjection(lat0, lon0 float64) projection {
	ky := earthRadius * math.Pi / 180
	return projection{lat0: lat0, lon0: lon0, kx: ky * math.Cos(lat0*math.Pi/180), ky: ky}
}

func (p projection) toXY(lat, lon float64) (x, y float64) {
	return (lon - p.lon0) * p.kx, (lat - p.lat0) * p.ky
}

func (p projection) toLatLon(x, y float64) (lat, lon float64) {
	return p.lat0 + y/p.ky, p.lon0 + x/p.kx
}

// Sector is a camera's visible area: apex at the camera, opening FOV degrees
// around Azimuth (degrees clockwise from north), out to Range metres. A FOV
// of 360 is a disc.
type Sector struct {
	Lat, Lon float64
	Azimuth  float64
	FOV      float64
	Range    float64
}

// contains reports whether the point (x, y), in metres in the sector's
// local frame whose apex is (ax, ay), lies inside the sector.
func (s Sector) containsXY(ax, ay, x, y float64) bool {
	dx, dy := x-ax, y-ay
	d2 := dx*dx + dy*dy
	if d2 > s.Range*s.Range {
		return false
	}
	if s.FOV >= 360 || d2 == 0 {
		return true
	}
	bearing := math.Atan2(dx, dy) * 180 / math.Pi // clockwise from north
	diff := math.Mod(bearing-s.Azimuth+540, 360) - 180
	return math.Abs(diff) <= s.FOV/2
}

// Polygon returns the sector as a polygon of n arc steps (WGS-84 points),
// apex first; for drawing.
func (s Sector) Polygon(n int) []LatLon {
	p := newProjection(s.Lat, s.Lon)
	var out []LatLon
	if s.FOV < 360 {
		out = append(out, LatLon{s.Lat, s.Lon})
	}
	fov := math.Min(s.FOV, 360)
	for i := 0; i <= n; i++ {
		a := (s.Azimuth - fov/2 + fov*float64(i)/float64(n)) * math.Pi / 180
		lat, lon := p.toLatLon(s.Range*math.Sin(a), s.Range*math.Cos(a))
		out = append(out, LatLon{lat, lon})
	}
	return out
}

// Area returns the sector's area in square metres.
func (s Sector) Area() float64 {
	return math.Pi * s.Range * s.Range * math.Min(s.FOV, 360) / 360
}

// bbox returns the sector's bounding box in degrees (a box around the full
// disc: cheap and sufficient for candidate search).
func (s Sector) bbox() (min, max [2]float64) {
	p := newProjection(s.Lat, s.Lon)
	dLat := s.Range / p.ky
	dLon := s.Range / p.kx
	return [2]float64{s.Lon - dLon, s.Lat - dLat}, [2]float64{s.Lon + dLon, s.Lat + dLat}
}

// PointInPolygon reports whether (lat, lon) lies inside the polygon of
// [lon, lat] vertices (even-odd rule; the ring need not be closed).
func PointInPolygon(lat, lon float64, poly [][2]float64) bool {
	in := false
	n := len(poly)
	for i, j := 0, n-1; i < n; j, i = i, i+1 {
		xi, yi := poly[i][0], poly[i][1]
		xj, yj := poly[j][0], poly[j][1]
		if (yi > lat) != (yj > lat) && lon < (xj-xi)*(lat-yi)/(yj-yi)+xi {
			in = !in
		}
	}
	return in
}
