package retention

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"vigil/internal/record"
)

// CameraForecast is one camera's share of the capacity forecast.
type CameraForecast struct {
	CameraID      string  `json:"camera_id"`
	BitrateBps    float64 `json:"bitrate_bps"` // over the last day of recording
	DailyBytes    int64   `json:"daily_bytes"`
	RetentionDays int     `json:"retention_days"`
	NeededBytes   int64   `json:"needed_bytes"`
	ShortfallDays float64 `json:"shortfall_days"` // days of its retention the storage cannot hold; 0 when it can
}

// Forecast says whether the storage holds every camera's retention at
// current bitrates (RET-6).
type Forecast struct {
	At            time.Time        `json:"at"`
	CapacityBytes int64            `json:"capacity_bytes"` // kept footage + free space
	FreeBytes     int64            `json:"free_bytes"`
	KeptBytes     int64            `json:"kept_bytes"`
	DailyBytes    int64            `json:"daily_bytes"`
	NeededBytes   int64            `json:"needed_bytes"`
	DaysHeld      float64          `json:"days_held"` // at current bitrates, for every camera alike
	Cameras       []CameraForecast `json:"cameras"`
	Short         []CameraForecast `json:"short"` // cameras whose minimum cannot be met
	Health        string           `json:"health"`
}

// Forecast health states.
const (
	ForecastOK           = "ok"
	ForecastInsufficient = "insufficient" // some camera's retention does not fit
)

// Forecast computes the capacity forecast from the index and the volumes.
func (e *Engine) Forecast(ctx context.Context) (*Forecast, error) {
	now := e.now()
	f := &Forecast{At: now.UTC(), Cameras: []CameraForecast{}, Short: []CameraForecast{}, Health: ForecastOK}
	vols, err := e.store.Space(ctx)
	if err != nil {
		return nil, fmt.Errorf("forecast: %w", err)
	}
	for _, v := range vols {
		f.FreeBytes += v.FreeBytes
	}
	if f.KeptBytes, err = e.index.KeptBytes(ctx); err != nil {
		return nil, fmt.Errorf("forecast: %w", err)
	}
	f.CapacityBytes = f.KeptBytes + f.FreeBytes
	since := now.Add(-24 * time.Hour)
	rates, err := e.index.UsageSince(ctx, since)
	if err != nil {
		return nil, fmt.Errorf("forecast: %w", err)
	}
	for _, r := range rates {
		if r.Span <= 0 {
			continue
		}
		ret, err := e.Retention(ctx, r.CameraID)
		if err != nil {
			return nil, err
		}
		bps := float64(r.Bytes) * 8 / r.Span.Seconds()
		daily := int64(bps / 8 * 86400)
		c := CameraForecast{CameraID: r.CameraID, BitrateBps: math.Round(bps), DailyBytes: daily, RetentionDays: ret.Days,
			NeededBytes: daily * int64(ret.Days)}
		f.DailyBytes += daily
		f.NeededBytes += c.NeededBytes
		f.Cameras = append(f.Cameras, c)
	}
	if f.DailyBytes > 0 {
		f.DaysHeld = math.Floor(10*float64(f.CapacityBytes)/float64(f.DailyBytes)) / 10
	} else {
		f.DaysHeld = math.Inf(1)
	}
	if f.NeededBytes > f.CapacityBytes {
		for i := range f.Cameras {
			c := &f.Cameras[i]
			if float64(c.RetentionDays) > f.DaysHeld {
				c.ShortfallDays = math.Ceil(10*(float64(c.RetentionDays)-f.DaysHeld)) / 10
				f.Short = append(f.Short, *c)
			}
		}
		sort.Slice(f.Short, func(i, j int) bool { return f.Short[i].ShortfallDays > f.Short[j].ShortfallDays })
		f.Health = ForecastInsufficient
		e.log.Warn("retention: storage cannot hold every camera's retention (RET-6)", "days_held", f.DaysHeld, "cameras_short", len(f.Short))
	}
	if math.IsInf(f.DaysHeld, 1) {
		f.DaysHeld = -1 // nothing recorded yet: unknown
	}
	return f, nil
}

// Gaps reports a camera's recording over a range: spans, gaps with their
// cause, completeness (RET-5).
func (e *Engine) Gaps(ctx context.Context, camera string, from, to time.Time) (*record.Coverage, error) {
	return e.index.Coverage(ctx, camera, from, to)
}
