package live

import _ "embed"

// PlayerJS is a dependency-free browser script with vigilWHEP (play a
// camera over WHEP), vigilMSE (play the fMP4 fallback through Media
// Source Extensions) and vigilCountFrames (count decoded frames with
// requestVideoFrameCallback). The console can ship it or copy it; the
// browser tests load it in a page. See web/player.js for the contract.
//
//go:embed web/player.js
var PlayerJS string
