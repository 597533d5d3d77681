package rtpdec

import (
	"fmt"
	"math"
	"time"
)

// Timing faults of senders (MED-4, RET-3). RTP timestamps are checked
// against arrival times:
//   - a step that goes back more than maxBackStep, or forward more than
//     maxAheadStep beyond the arrival time that passed, is a jump: the
//     timeline is re-anchored on arrival time and the frames are kept;
//   - a clock that runs at another rate than the SDP says (every step a
//     forward jump, or a measured rate off by more than a third) is
//     corrected to the nearest usual rate: unit times stay in the declared
//     rate's ticks, scaled.
const (
	maxBackStep  = 500 * time.Millisecond // B-frames step back a few frames, never this far
	maxAheadStep = 2 * time.Second
	// The rate is measured in windows of measureEvery, the first starting
	// measureAfter into the stream (past a GOP burst at PLAY); two
	// windows in a row must agree before a rate is corrected.
	measureAfter = time.Second
	measureEvery = 4 * time.Second
)

// ticks converts an arrival-time span to declared-rate ticks.
func (r *Receiver) ticks(d time.Duration) int64 {
	return int64(d) * int64(r.track.ClockRate) / int64(time.Second)
}

// outOf maps an unwrapped RTP timestamp to unit time.
func (r *Receiver) outOf(raw int64) int64 {
	clock := int64(r.track.ClockRate)
	if r.rate == clock {
		return r.baseOut + raw - r.baseRaw
	}
	return r.baseOut + (raw-r.baseRaw)*clock/r.rate
}

// timestamp unwraps a packet's RTP timestamp into unit time, re-anchoring
// on jumps and correcting the clock rate.
func (r *Receiver) timestamp(ts uint32, recv time.Time) int64 {
	clock := int64(r.track.ClockRate)
	switch {
	case !r.tsStarted:
		r.tsStarted, r.rate = true, clock
		r.rawU, r.baseRaw, r.baseOut, r.outLast, r.recvLast = int64(ts), int64(ts), int64(ts), int64(ts), recv
		r.measRecv = time.Time{}
		return r.outLast
	case r.tsRebase:
		// A new stream (SSRC change, restart): continue after the old one
		// by the arrival time that passed.
		r.tsRebase = false
		r.rawU, r.baseRaw = int64(ts), int64(ts)
		r.baseOut = r.outLast + max(r.ticks(recv.Sub(r.recvLast)), 1)
		r.outLast, r.recvLast, r.measRecv = r.baseOut, recv, time.Time{}
		return r.outLast
	}
	d := int64(int32(ts - uint32(r.rawU)))
	if d == 0 {
		return r.outLast
	}
	r.rawU += d
	el := recv.Sub(r.recvLast)
	step := r.outOf(r.rawU) - r.outLast
	jump := step < -r.ticks(maxBackStep) || step-r.ticks(el) > r.ticks(maxAheadStep)
	if jump {
		r.baseRaw, r.baseOut = r.rawU, r.outLast+max(r.ticks(el), 1)
		r.stats.TimestampJumps++
		if !r.inJump && r.opts.OnEvent != nil {
			r.opts.OnEvent(Event{Kind: EventTimestampJump, Detail: fmt.Sprintf(
				"RTP time stepped %+.3f s while %.3f s passed; re-anchored on arrival time, frames kept",
				float64(d)/float64(r.rate), el.Seconds())})
		}
	}
	r.inJump = jump
	r.outLast, r.recvLast = r.outOf(r.rawU), recv
	r.measure(recv, jump)
	return r.outLast
}

// measure checks the sender's clock rate against arrival times.
func (r *Receiver) measure(recv time.Time, jump bool) {
	if r.measRecv.IsZero() {
		r.measRecv, r.measOn = recv.Add(measureAfter), false
		return
	}
	if !r.measOn {
		if !recv.Before(r.measRecv) {
			r.measOn = true
			r.restartMeasure(recv, 0)
		}
		return
	}
	r.measSteps++
	if jump {
		r.measJumps++
	}
	el := recv.Sub(r.measRecv)
	switch {
	case r.measSteps >= 10 && r.measJumps*5 >= r.measSteps*4 && el >= time.Second:
		// Nearly every step jumps forward: the rate is wrong.
		if obs := float64(r.rawU-r.measRaw) / el.Seconds(); obs > 0 {
			r.stats.ObservedClockRate = obs
			r.stats.TimestampJumps -= uint64(r.measJumps) // they were the rate, not jumps
			r.correctRate(obs)
		}
		r.restartMeasure(recv, 0)
	case r.measJumps > 0 && r.measSteps >= 10 && r.measJumps*5 < r.measSteps*4:
		r.restartMeasure(recv, 0) // a real jump inside the window: measure afresh
	case r.measJumps == 0 && el >= measureEvery:
		obs := float64(r.rawU-r.measRaw) / el.Seconds()
		r.stats.ObservedClockRate = obs
		ratio := obs / float64(r.rate)
		prev := r.measPrev
		if ratio > 0.75 && ratio < 1.33 {
			r.restartMeasure(recv, 0)
			return
		}
		if prev > 0 && math.Abs(ratio/prev-1) < 0.1 {
			r.correctRate(obs)
			r.restartMeasure(recv, 0)
			return
		}
		r.restartMeasure(recv, ratio)
	}
}

func (r *Receiver) restartMeasure(recv time.Time, prev float64) {
	r.measRecv, r.measRaw, r.measSteps, r.measJumps, r.measPrev = recv, r.rawU, 0, 0, prev
}

// usualRates are the RTP clock rates senders use.
var usualRates = []int64{8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 90000}

// correctRate switches to the usual rate nearest to the observed one.
func (r *Receiver) correctRate(obs float64) {
	rate := int64(math.Round(obs/100) * 100)
	for _, u := range usualRates {
		if math.Abs(obs/float64(u)-1) < 0.1 {
			rate = u
			break
		}
	}
	if rate <= 0 || rate == r.rate {
		return
	}
	old := r.rate
	r.baseRaw, r.baseOut = r.rawU, r.outLast
	r.rate = rate
	r.stats.ClockCorrections++
	if r.opts.OnEvent != nil {
		r.opts.OnEvent(Event{Kind: EventClockRate, Detail: fmt.Sprintf(
			"SDP clock rate %d Hz, RTP time advances at %.0f Hz of arrival time; timed at %d Hz (was %d Hz)",
			r.track.ClockRate, obs, rate, old)})
	}
}
