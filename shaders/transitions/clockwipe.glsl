// Author: Reel
// License: MIT
// A hand sweeps clockwise from 12 o'clock around the centre, uncovering the next slide.
// `softness` is the width of the blended band, in fractions of a full turn.

uniform float softness; // = 0.0

// atan(a) / 2π for 0 ≤ a ≤ 1, within 2e-6 of a turn: a polynomial in plain arithmetic,
// so the CPU compositor can repeat it to the bit (a driver's atan need not match numpy's).
float atan_turns(float a) {
    float a2 = a * a;
    return a * (0.15913361 + a2 * (-0.052568797 + a2 * (0.028670331 + a2 * (-0.013549338 + a2 * 0.0033160092))));
}

vec4 transition(vec2 uv) {
    vec2 d = (uv - 0.5) * vec2(ratio, 1.0);  // in frame heights, y up: true angles at any ratio
    vec2 m = abs(d);
    // The angle from 12 o'clock within the quadrant, in turns (0..0.25).
    float quadrant = m.x > m.y ? 0.25 - atan_turns(m.y / m.x) : atan_turns(m.x / max(m.y, 1e-6));
    // The angle clockwise from 12 o'clock, in turns (0..1).
    float turns = d.x >= 0.0 ? (d.y >= 0.0 ? quadrant : 0.5 - quadrant) : (d.y < 0.0 ? 0.5 + quadrant : 1.0 - quadrant);
    float t = 1.0 - turns;  // 1 just clockwise of 12 o'clock, where the next slide shows first
    // The edge starts a little outside 0..1 and ends a little past it, so that progress
    // 0 and 1 show one slide each even where a plane has a texel right on the centre.
    float band = max(softness, 0.0);
    float edge = 1.001 - progress * (1.002 + band);
    float reveal = band > 0.0 ? smoothstep(edge, edge + band, t) : step(edge, t);
    return mix(getFromColor(uv), getToColor(uv), reveal);
}
